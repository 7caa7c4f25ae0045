"""The served app with TRANSCRIBER=openai and SUMMARIZER=openai, each against a local server that speaks
OpenAI's API: the settings reach the adapters, and a recording ends with a schema-valid summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shared.schemas import SummaryOut
from tests import audio
from tests.chat_server import ChatServer
from tests.e2e.conftest import Server
from tests.openai_server import OpenAIServer

ALICE = {"Authorization": "Bearer dev:alice"}
KEY = "sk-e2e-test-key"
SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


async def _recording_through(
    http: aiohttp.ClientSession, api: str, data: bytes
) -> tuple[str, dict[str, Any]]:
    starts = datetime.now(UTC) + timedelta(days=1)
    meeting = {
        "title": "Roadmap",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
    }
    async with http.post(f"{api}/meetings", json=meeting, headers=ALICE) as reply:
        meeting_id = (await reply.json())["id"]
    body = {"fileName": "roadmap.wav", "contentType": "audio/wav", "sizeBytes": len(data)}
    async with http.post(f"{api}/meetings/{meeting_id}/recordings", json=body, headers=ALICE) as reply:
        created = await reply.json()
    upload = created["upload"]
    async with http.request(upload["method"], upload["url"], data=data, headers=upload["headers"]) as reply:
        assert reply.status == 201
    url = f"{api}/meetings/{meeting_id}/recordings/{created['id']}"
    for _ in range(600):
        async with http.get(url, headers=ALICE) as reply:
            recording: dict[str, Any] = await reply.json()
        if recording["status"] in ("completed", "failed"):
            return url, recording
        await asyncio.sleep(0.1)
    pytest.fail(f"the recording did not settle: {recording}")


async def test_openai_transcriber_and_summarizer_through_the_served_app(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    speech = (
        audio.decode(SPEECH / "engineers.flac") + audio.silence(2.0) + audio.decode(SPEECH / "questions.flac")
    )
    data = audio.wav([speech])
    async with OpenAIServer(api_keys={KEY}) as whisper, ChatServer(api_keys={KEY}) as chat:
        # The speech-to-text provider is OpenAI's API here, the summarizer the offline one.
        server = Server(
            tmp_path / "a", TRANSCRIBER="openai", OPENAI_API_KEY=KEY, OPENAI_BASE_URL=whisper.base_url
        )
        try:
            url, recording = await _recording_through(http, server.api, data)
        finally:
            assert server.stop() == 0
        assert recording["status"] == "completed", recording["error"]
        assert recording["usage"][0]["provider"] == "openai:whisper-1"
        # Two sentences 2 s apart: one request, both packed in one piece; the silence is cut to the half
        # second put between two stretches, never sent whole.
        assert recording["usage"][0]["requests"] == len(whisper.requests) == 1
        assert whisper.requests[0].model == "whisper-1"
        sent = whisper.requests[0].file_size
        assert sent is not None
        assert sent < len(data) - 1.5 * 32_000

        # And the summaries from a chat model with structured outputs.
        server = Server(
            tmp_path / "b", SUMMARIZER="openai", OPENAI_API_KEY=KEY, OPENAI_BASE_URL=chat.base_url
        )
        try:
            url, recording = await _recording_through(http, server.api, data)
            async with http.get(f"{url}/summary", headers=ALICE) as reply:
                summary = SummaryOut.model_validate(await reply.json())  # the served schema
        finally:
            assert server.stop() == 0
        assert recording["status"] == "completed", recording["error"]
        assert summary.model == "openai:gpt-4o-mini"
        [usage] = [u for u in recording["usage"] if u["stage"] == "summary"]
        assert usage["requests"] == len(chat.answered) == 1
        assert usage["inputTokens"] > 0
        assert usage["outputTokens"] > 0
