"""Token counts: exact with the encoding where tiktoken's cache has it, else a bound that never under-counts.

The exact encoding ships with the app (shared/data/tiktoken), so its tests run everywhere.
The bound is checked everywhere against tiktoken's own BPE with the worst vocabulary there is (single bytes
only) and with one that merges, and, where the real encoding is at hand, against o200k_base itself.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken

from shared import tokens
from shared.tokens import (
    TOKENS_PER_MESSAGE,
    TOKENS_PER_REPLY,
    Tokenizer,
    cache_file,
    encoding_for,
    load_tokenizer,
    tokenizer_for,
    utf8_bytes,
)

SAMPLES = [
    "The quick brown fox jumps over the lazy dog; the release ships on Friday, 2026-03-06.",
    "Grüße aus Köln: die Straßenbahn fährt um 7:45 Uhr, übermorgen nicht.",
    "会议将于下周三上午十点开始，请准时参加。議事録は明日送ります。",  # noqa: RUF001 - CJK punctuation
    "회의는 다음 주에 다시 열립니다.",
    "Let's ship it 🚀🎉 👍🏽 👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈",
    "3.14159265358979 1,000,000 0x7fffffff 42 -17e-3 +49 (0)30 1234567",
    "مرحبا بكم في الاجتماع",
    "def f(x):\n\treturn {'a': [1, 2, 3]}  # ok\r\n",
    "    lots    of     spaces\n\n\n and   tabs\t\t\t",
    "<|endoftext|> is just text here",
    "a lone surrogate \ud800 in the middle",
    "",
]
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken fetches URLs through tiktoken.load.read_file: any call to it for a URL fails the test."""
    import tiktoken.load

    original = tiktoken.load.read_file

    def guarded(blobpath: str) -> bytes:
        assert "://" not in blobpath, f"tried to download {blobpath}"
        return original(blobpath)

    monkeypatch.setattr(tiktoken.load, "read_file", guarded)


def byte_level_bpe(merges: list[bytes]) -> tiktoken.Encoding:
    """A byte-level BPE: the 256 single bytes, then `merges` in rank order."""
    ranks = {bytes([b]): b for b in range(256)}
    for token in merges:
        ranks.setdefault(token, len(ranks))
    return tiktoken.Encoding(name="test", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={})


def encode(encoding: tiktoken.Encoding, text: str) -> int:
    return len(encoding.encode_ordinary(text))


# --- the bound ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_downloads")
def test_without_the_encoding_the_count_is_the_utf8_bytes(empty_cache: Path) -> None:
    tokenizer = load_tokenizer("o200k_base")
    assert not tokenizer.exact
    assert tokenizer.describe() == "UTF-8 bytes (no o200k_base on disk)"
    assert [tokenizer.count(s) for s in SAMPLES] == [len(s.encode("utf-8", "surrogatepass")) for s in SAMPLES]
    assert tokenizer.count("a lone surrogate \ud800") == len("a lone surrogate ") + 3, "as U+FFFD: 3 bytes"
    assert list(empty_cache.iterdir()) == [], "nothing fetched into the cache"


@pytest.mark.parametrize("text", SAMPLES)
def test_the_bound_is_exact_for_the_worst_vocabulary_and_above_any_other(text: str) -> None:
    # Single bytes only: every byte stays a token, the most tokens a byte-level BPE can give.
    assert encode(byte_level_bpe([]), text) == utf8_bytes(text)
    merging = byte_level_bpe(
        [b"th", b"he", b"the", b" t", b" the", b"in", b"er", "ü".encode(), "的".encode()]
    )
    assert encode(merging, text) <= utf8_bytes(text)


def test_a_damaged_cached_file_is_left_alone(empty_cache: Path, no_downloads: None) -> None:
    path = cache_file("o200k_base")
    assert path is not None
    assert path.parent == empty_cache
    path.write_bytes(b"not the encoding\n")
    assert not load_tokenizer("o200k_base").exact
    assert path.read_bytes() == b"not the encoding\n", "tiktoken would have deleted it and downloaded again"


def test_a_disabled_cache_means_the_bound(monkeypatch: pytest.MonkeyPatch, no_downloads: None) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken: no cache, download every time
    assert cache_file("o200k_base") is None
    assert not load_tokenizer("o200k_base").exact


def test_tiktokens_cache_rule_is_followed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("DATA_GYM_CACHE_DIR", str(tmp_path))
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    assert cache_file("o200k_base") == tmp_path / hashlib.sha1(url.encode()).hexdigest()
    assert cache_file("p50k_base") is None, "an encoding this module does not know is never loaded"


def test_a_failing_load_falls_back_to_the_bound(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(encoding: str) -> None:
        raise RuntimeError("corrupt regex")

    monkeypatch.setattr(tokens, "_local_counter", broken)
    tokenizer = load_tokenizer("o200k_base")
    assert not tokenizer.exact
    assert tokenizer.count("abc") == 3


# --- the real encoding, shipped with the app ----------------------------------------------------------------


@pytest.fixture
def exact(no_downloads: None, monkeypatch: pytest.MonkeyPatch) -> Tokenizer:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    tokenizer = load_tokenizer("o200k_base")
    assert tokenizer.exact, "the shipped o200k_base (shared/data/tiktoken) did not load"
    return tokenizer


@pytest.mark.parametrize("text", SAMPLES)
def test_the_exact_count_is_tiktokens_and_never_above_the_bound(exact: Tokenizer, text: str) -> None:
    assert exact.count(text) == encode(tiktoken.get_encoding("o200k_base"), text)
    assert exact.count(text) <= utf8_bytes(text)


def test_a_chat_request_is_never_counted_under_its_exact_size(exact: Tokenizer, empty_cache: Path) -> None:
    bound = load_tokenizer("o200k_base")
    assert not bound.exact
    messages = [{"role": "system", "content": SAMPLES[0]}, {"role": "user", "content": "\n".join(SAMPLES)}]
    fmt = {"type": "json_schema", "json_schema": {"name": "n", "strict": True, "schema": {"type": "object"}}}
    assert exact.count_request(messages, fmt) <= bound.count_request(messages, fmt)
    assert bound.count_request(messages, fmt) < 4 * exact.count_request(messages, fmt)


# --- requests, models, caching -----------------------------------------------------------------------------


def test_a_request_counts_its_messages_the_chat_format_and_the_schema(empty_cache: Path) -> None:
    tokenizer = load_tokenizer("o200k_base")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hallo"}]
    assert tokenizer.count_messages(messages) == TOKENS_PER_REPLY + 2 * TOKENS_PER_MESSAGE + 6 + 9 + 4 + 5
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "notes", "strict": True, "schema": {"type": "object"}},
    }
    compact = json.dumps(fmt, separators=(",", ":"))
    assert tokenizer.count_request(messages, fmt) == tokenizer.count_messages(messages) + len(compact)


def test_models_map_to_their_encodings() -> None:
    assert encoding_for("gpt-4o-mini") == "o200k_base"
    assert encoding_for("gpt-4.1-mini") == "o200k_base"
    assert encoding_for("gpt-4") == "cl100k_base"
    assert encoding_for("my-chat-deployment") == "o200k_base", "unknown: the current chat models' encoding"


def test_the_tokenizer_is_loaded_once_per_process() -> None:
    assert tokenizer_for("gpt-4o-mini") is tokenizer_for("gpt-4o-mini")


def test_importing_the_module_loads_nothing_heavy() -> None:
    probe = "import sys, shared.tokens; print(sorted(m for m in ('tiktoken', 'regex') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
