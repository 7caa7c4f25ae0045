"""An aiohttp application served over HTTPS on 127.0.0.1 (a free port), with a certificate from a
throwaway local CA (devhost/tls.py): the local stand-ins for Azure services that SDKs only reach by HTTPS."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from devhost.tls import make_local_tls


class HttpsSite:
    def __init__(self, name: str, *, hosts: Sequence[str] = ()) -> None:
        self._name = name
        self._hosts = tuple(hosts)
        self._runner: web.AppRunner | None = None
        self._directory: Path | None = None
        self.port = 0
        self.ca_file = Path()

    @property
    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this site's CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    async def start(self, app: web.Application) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix=f"{self._name}-"))
        tls = make_local_tls(self._directory, self._name, hosts=self._hosts)
        self.ca_file = tls.ca_file
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(tls.cert_file, tls.key_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_context).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
