"""Meeting summaries: the model every summarizer fills in, the notes as stored, and their Markdown.

`SummaryContent` is what a summarizer produces; `Sources` says where in the transcript each of its items
comes from (segment indexes, and the quote a model claims). `Notes` are the same items each carrying its
`evidence`, checked against the transcript (shared/notes/evidence.py); `Summary` adds how and when they
were made, edited and approved. Times are seconds from the start of the recording, as in transcripts.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class SummaryModel(BaseModel):
    # Every field is written, defaults included: the OpenAPI document (shared/schemas.py) says so.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        defer_build=True,
        json_schema_serialization_defaults_required=True,
    )


class Decision(SummaryModel):
    text: str = Field(min_length=1, description="What was decided, as one sentence.")


class ActionItem(SummaryModel):
    owner: str | None = Field(description="Who will do it: a speaker's name as in the transcript, or null.")
    task: str = Field(min_length=1, description="What is to be done.")
    due: str | None = Field(
        description="When it is due, as said in the meeting (YYYY-MM-DD where a date is clear), or null."
    )


class Chapter(SummaryModel):
    title: str = Field(min_length=1)
    start: Seconds = Field(description="Seconds from the start of the recording.")
    end: Seconds
    summary: str

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("a chapter ends before it starts")
        return self


class SummaryContent(SummaryModel):
    """What a summarizer writes: the structured notes of one meeting, in the meeting's language."""

    overview: str = Field(description="What the meeting was about and what came of it, in a few sentences.")
    key_points: list[str] = Field(description="The main points discussed.")
    decisions: list[Decision]
    action_items: list[ActionItem]
    chapters: list[Chapter] = Field(
        description="The meeting's parts in time order, covering the whole of it."
    )
    open_questions: list[str] = Field(description="Questions raised and left unanswered.")


# --- where items come from -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemSource:
    """Where one item of SummaryContent comes from: transcript segment indexes (0-based), and the verbatim
    quote a model claims they hold (None: the server picks the sentence that best matches the item)."""

    segments: tuple[int, ...]
    quote: str | None = None


# Per list field of SummaryContent (`key_points`, `decisions`, `action_items`, `chapters`,
# `open_questions`), one source per item in the same order (None: the summarizer does not know).
CITED_FIELDS = ("key_points", "decisions", "action_items", "chapters", "open_questions")


@dataclass(slots=True)
class Sources:
    items: dict[str, list[ItemSource | None]] = field(default_factory=dict)

    def of(self, name: str, index: int) -> ItemSource | None:
        found = self.items.get(name, [])
        return found[index] if index < len(found) else None


# --- the notes as stored: every item with its evidence ----------------------------------------------------


class Evidence(SummaryModel):
    """One span of the transcript an item rests on. The server fills `start`, `end` and `speaker` from the
    segments, and checks that `quote` occurs in their text (case and punctuation aside)."""

    start: Seconds = Field(default=0.0, description="Seconds: the first segment's start (filled in).")
    end: Seconds = Field(default=0.0, description="Seconds: the last segment's end (filled in).")
    segments: list[Annotated[int, Field(ge=0)]] = Field(
        min_length=1, max_length=50, description="Indexes (0-based) of the transcript's segments."
    )
    speaker: str | None = Field(default=None, description="Who said it, by name (filled in).")
    speaker_id: str | None = Field(default=None, description="The transcript's speaker id (filled in).")
    quote: str = Field(max_length=1000, description="Verbatim words of those segments.")


class Cited(SummaryModel):
    evidence: list[Evidence] = Field(default_factory=list, max_length=10)
    unverified: bool = Field(
        default=False,
        description="True when the item has no evidence, or evidence that does not check out.",
    )


def _legacy_text(value: Any) -> Any:
    # Summaries written before evidence existed hold plain strings: read as items without evidence.
    return {"text": value, "unverified": True} if isinstance(value, str) else value


class KeyPoint(Cited):
    text: str = Field(min_length=1)


class OpenQuestion(Cited):
    text: str = Field(min_length=1)


class DecisionNote(Cited, Decision):
    pass


class ActionNote(Cited, ActionItem):
    pass


class ChapterNote(Cited, Chapter):
    pass


class Notes(SummaryModel):
    """The notes with evidence: what `PUT .../summary` takes (fields the server owns are ignored there)."""

    overview: str = Field(max_length=20_000)
    key_points: list[Annotated[KeyPoint, BeforeValidator(_legacy_text)]] = Field(max_length=200)
    decisions: list[DecisionNote] = Field(max_length=200)
    action_items: list[ActionNote] = Field(max_length=200)
    chapters: list[ChapterNote] = Field(max_length=200)
    open_questions: list[Annotated[OpenQuestion, BeforeValidator(_legacy_text)]] = Field(max_length=200)

    def cited(self) -> list[Cited]:
        return [*self.key_points, *self.decisions, *self.action_items, *self.chapters, *self.open_questions]


class Summary(Notes):
    model: str = Field(
        description="The summarizer that wrote it, e.g. `openai:gpt-4o-mini`, `local:extractive`."
    )
    generated_at: datetime
    version: int = Field(default=1, description="Increases with every edit, approval or regeneration.")
    edited_by: str | None = Field(default=None, description="Who made this version by hand; null if none.")
    edited_at: datetime | None = None
    approved_by: str | None = Field(default=None, description="Who approved this version; null: a draft.")
    approved_at: datetime | None = None


def to_json(summary: Summary) -> str:
    return summary.model_dump_json(by_alias=True)


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _line(text: str) -> str:
    # One Markdown line per item: a line break inside would start another paragraph or list.
    return " ".join(text.split())


def to_markdown(summary: Summary, *, title: str | None = None) -> str:
    lines = [f"# {_line(title) if title else 'Meeting summary'}", "", _line(summary.overview), ""]
    if summary.key_points:
        lines += ["## Key points", "", *(f"- {_at(p)}{_line(p.text)}" for p in summary.key_points), ""]
    if summary.decisions:
        lines += ["## Decisions", "", *(f"- {_at(d)}{_line(d.text)}" for d in summary.decisions), ""]
    if summary.action_items:
        lines += ["## Action items", "", "| Owner | Task | Due | Said at |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {_cell(item.owner or '—')} | {_cell(item.task)} | {_cell(item.due or '—')} | "
            f"{_cell(_at(item).strip() or '—')} |"
            for item in summary.action_items
        ]
        lines.append("")
    if summary.chapters:
        lines += ["## Chapters", ""]
        for chapter in summary.chapters:
            span = f"{_clock(chapter.start)}-{_clock(chapter.end)}"
            lines.append(f"- **{span} {_line(chapter.title)}**: {_line(chapter.summary)}")
        lines.append("")
    if summary.open_questions:
        lines += [
            "## Open questions",
            "",
            *(f"- {_at(q)}{_line(q.text)}" for q in summary.open_questions),
            "",
        ]
    lines.append(f"*{summary.model}, {summary.generated_at.isoformat(timespec='seconds')}*")
    if summary.approved_by is not None and summary.approved_at is not None:
        lines.append(
            f"*Approved by {_line(summary.approved_by)}, {summary.approved_at.isoformat(timespec='seconds')}*"
        )
    return "\n".join(lines) + "\n"


def _at(item: Cited) -> str:
    """`[12:34] ` where the item was said (its first evidence), `[12:34?] ` if that does not check out."""
    if not item.evidence:
        return ""
    return f"[{_clock(item.evidence[0].start)}{'?' if item.unverified else ''}] "


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|")
