"""The files of a recording's summary: one per version (`summary-versions/<id>.json`, never rewritten),
and `summary.json` / `summary.md`, the current version as rendered for whoever reads the blobs directly.

Versions are listed in the recording document (`summaryVersions`: number, file, kind, who, when); the
version's file is written first and the document's list, with its ETag, second, so the list never names
a file that is not there, and two writers racing cannot both make version n (the loser's file stays
unlisted and is removed with the recording).
"""

from __future__ import annotations

import uuid

from shared.domain.recording_paths import ARTIFACTS, SUMMARY_FILES, artifact_blob
from shared.domain.recordings import Recording, SummaryVersion
from shared.ports import BlobStore
from shared.summaries import Summary, to_json, to_markdown

VERSIONS_FOLDER = "summary-versions"


def new_version_name() -> str:
    return f"{VERSIONS_FOLDER}/{uuid.uuid4()}.json"


async def write_version(blobs: BlobStore, recording: Recording, name: str, summary: Summary) -> None:
    await blobs.put(
        ARTIFACTS,
        artifact_blob(recording.meeting_id, recording.id, name),
        to_json(summary).encode(),
        content_type="application/json",
    )


async def read_version(blobs: BlobStore, recording: Recording, entry: SummaryVersion) -> Summary:
    """The summary of version `entry`, with its number as the document lists it."""
    body = await blobs.get(ARTIFACTS, artifact_blob(recording.meeting_id, recording.id, entry.blob))
    summary = Summary.model_validate_json(body)
    return summary.model_copy(update={"version": entry.version})


async def write_current(blobs: BlobStore, recording: Recording, summary: Summary, title: str | None) -> None:
    """`summary.json` and `summary.md` as `summary` renders them."""
    renderings = {"json": to_json(summary), "md": to_markdown(summary, title=title)}
    for fmt, (name, media_type) in SUMMARY_FILES.items():
        await blobs.put(
            ARTIFACTS,
            artifact_blob(recording.meeting_id, recording.id, name),
            renderings[fmt].encode(),
            content_type=media_type,
        )


def next_version(recording: Recording) -> int:
    return recording.summary_versions[-1].version + 1 if recording.summary_versions else 1
