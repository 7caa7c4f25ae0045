"""The built web client (`web/dist`, Vite's output) served at `/`, next to the API, as Static Web Apps
serves it in Azure: one origin for both locally, so `make run` needs no CORS and no second server.

- `GET|HEAD /<file>`: the file, with its content type (a fixed table for what Vite emits, then the
  platform's guess), ETag/Last-Modified, Range, and a precompressed `.br`/`.gz` sibling, or else gzip made
  here (once per version of the file) for text when the client accepts it.
- Caching: `/assets/*` (Vite's content-hashed names) `public, max-age=31536000, immutable`; everything
  else, `index.html` first, `no-cache`, so a rebuilt client shows on the next load.
- SPA fallback: a path that is no file answers `index.html` (deep links like `/meetings/abc` load the app,
  whose router takes over), except under `/assets/`, where a missing file is a 404: a stale page asking
  for an old bundle must fail plainly, not get HTML for JavaScript.
- Never outside the folder: `..`, dot files, backslashes, NUL and symlinks leading out are refused (404).
- The folder is looked for on each request: building the client while devhost runs is enough. Until then
  every such path answers a short page saying how to build it.

The API's prefix (`/api`), `/_devhost/...` and `/runtime/...` are never claimed here.
"""

from __future__ import annotations

import gzip
import html
import mimetypes
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from aiohttp import web

WEB_DIST_ENV = "DEVHOST_WEB_DIST"
INDEX = "index.html"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
RESERVED = frozenset({"_devhost", "runtime"})

# What Vite emits, whatever the platform's mime.types says (some lack wasm or woff2, or call JavaScript
# application/x-javascript); browsers refuse module scripts and wasm streaming with a wrong type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
# Worth gzipping on the fly (already-compressed images, fonts and media are not).
COMPRESSIBLE = ("text/", "application/json", "application/manifest+json", "image/svg+xml", "application/wasm")
MIN_COMPRESS_BYTES = 1024
# Compressed in memory and kept (a bundle is a few MB); a larger file goes as it is.
MAX_COMPRESS_BYTES = 32 * 1024 * 1024

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>video-signaling: web client not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The web client is not built</h1>
<p>devhost serves the web client from <code>{root}</code>, which does not exist yet.
Build it with <code>make web</code> (or start with <code>make run</code>, which builds it), then reload.</p>
<p>The API is up: <a href="/{prefix}/health">/{prefix}/health</a>,
<a href="/{prefix}/openapi.json">/{prefix}/openapi.json</a>.</p>
</body></html>
"""


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class WebClientSite:
    """Serves `root` (normally `<repo>/web/dist`) at `/`, beside the API under `/<route_prefix>`."""

    def __init__(self, root: Path, *, route_prefix: str = "api") -> None:
        self.root = root
        self.route_prefix = route_prefix.strip("/")
        self._reserved = RESERVED | {self.route_prefix.split("/", 1)[0].lower()}

    @property
    def built(self) -> bool:
        return (self.root / INDEX).is_file()

    def claims(self, method: str, path: str) -> bool:
        """Whether a request is the site's: a GET or HEAD outside the API and devhost's own routes."""
        if method not in ("GET", "HEAD"):
            return False
        first = path.lstrip("/").split("/", 1)[0]
        return first.lower() not in self._reserved

    def resolve(self, path: str) -> tuple[Path | None, bool]:
        """(the file to send, whether it is an immutable asset); (None, False) for a miss that falls back
        to index.html; (None, True) for a miss that is a 404."""
        segments = [s for s in path.split("/") if s]
        asset = bool(segments) and segments[0] == ASSETS
        if any(s in (".", "..") or s.startswith(".") or "\\" in s or "\0" in s for s in segments):
            return None, True
        root = self.root.resolve()
        candidate = root.joinpath(*segments).resolve() if segments else root
        if not candidate.is_relative_to(root):
            return None, True  # a symlink leading out of the folder
        if candidate.is_file():
            return candidate, asset
        return None, asset

    async def handle(self, request: web.Request) -> web.StreamResponse:
        root = self.root
        if not self.built:
            page = NOT_BUILT.format(root=html.escape(str(root)), prefix=self.route_prefix)
            return web.Response(
                text=page, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"}
            )
        file, asset = self.resolve(request.path)
        if file is None:
            if asset:
                return web.Response(status=404, text="not found\n", headers={"Cache-Control": NO_CACHE})
            file, asset = root / INDEX, False
        headers = {"Content-Type": content_type(file), "Cache-Control": IMMUTABLE if asset else NO_CACHE}
        if _compressible(request, file, headers["Content-Type"]):
            return _gzipped(request, file, headers)
        # FileResponse: Range, ETag and If-None-Match, and a precompressed `.br`/`.gz` sibling if any.
        return web.FileResponse(file, headers=headers)


def _compressible(request: web.Request, file: Path, media_type: str) -> bool:
    if "gzip" not in request.headers.get("Accept-Encoding", "").lower() or "Range" in request.headers:
        return False  # a range of a compressed body is not a range of the file
    if any(file.with_name(file.name + ext).is_file() for ext in (".br", ".gz")):
        return False
    size = file.stat().st_size
    return media_type.startswith(COMPRESSIBLE) and MIN_COMPRESS_BYTES <= size <= MAX_COMPRESS_BYTES


def _gzipped(request: web.Request, file: Path, headers: dict[str, str]) -> web.Response:
    stat = file.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-gzip"'
    headers = {**headers, "ETag": etag, "Vary": "Accept-Encoding"}
    headers["Last-Modified"] = formatdate(stat.st_mtime, usegmt=True)
    if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    body = _compress(file, stat.st_mtime_ns, stat.st_size)
    return web.Response(body=body, headers={**headers, "Content-Encoding": "gzip"})


@lru_cache(maxsize=64)
def _compress(file: Path, mtime_ns: int, size: int) -> bytes:
    """The file gzipped, once per version of it (its mtime and size are the cache key)."""
    return gzip.compress(file.read_bytes(), compresslevel=6)


def default_root(app_dir: Path) -> Path:
    return app_dir / "web" / "dist"
