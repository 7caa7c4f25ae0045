"""Meeting summaries: the model every summarizer fills in, and its Markdown rendering.

`SummaryContent` is what a summarizer produces (and what a model is asked for with structured outputs);
`Summary` adds what the app knows about how it was made. Times are seconds from the start of the
recording, as in transcripts. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
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


class Summary(SummaryContent):
    model: str = Field(
        description="The summarizer that wrote it, e.g. `openai:gpt-4o-mini`, `local:extractive`."
    )
    generated_at: datetime


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
        lines += ["## Key points", "", *(f"- {_line(p)}" for p in summary.key_points), ""]
    if summary.decisions:
        lines += ["## Decisions", "", *(f"- {_line(d.text)}" for d in summary.decisions), ""]
    if summary.action_items:
        lines += ["## Action items", "", "| Owner | Task | Due |", "| --- | --- | --- |"]
        lines += [
            f"| {_cell(item.owner or '—')} | {_cell(item.task)} | {_cell(item.due or '—')} |"
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
        lines += ["## Open questions", "", *(f"- {_line(q)}" for q in summary.open_questions), ""]
    lines.append(f"*{summary.model}, {summary.generated_at.isoformat(timespec='seconds')}*")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|")
