"""DevHost: the FunctionApp plus the trigger runners that feed it, started and stopped together."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Protocol

from devhost.app_loader import HTTP_TRIGGER, AppIndex, index_app
from devhost.http_host import HttpRunner

logger = logging.getLogger(__name__)


class TriggerRunner(Protocol):
    """Feeds one or more trigger types to their functions; one with no trigger types (the blob watcher)
    only runs alongside them, started and stopped with the host."""

    @property
    def trigger_types(self) -> frozenset[str]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def describe(self) -> list[str]:
        """Banner lines, one per function served."""
        ...


class DevHost:
    """Serves `app` locally: `async with DevHost(app, port=0) as host: host.base_url`.

    Further runners (say a queue runner built from `host.index.by_trigger("queueTrigger")`) are
    added with `add_runner` before start; they are started in order and stopped in reverse. The HTTP
    runner starts after all of them and stops before them: a request (an upload, a webhook) never
    reaches a runner that is not running.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        route_prefix: str = "api",
        function_key: str | None = None,
        app_dir: str | None = None,
    ) -> None:
        self.index: AppIndex = index_app(app, directory=app_dir)
        self.http = HttpRunner(
            self.index.by_trigger(HTTP_TRIGGER),
            host=host,
            port=port,
            route_prefix=route_prefix,
            function_key=function_key,
        )
        self._runners: list[TriggerRunner] = []
        self._started: list[TriggerRunner] = []

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def runners(self) -> tuple[TriggerRunner, ...]:
        """In start order: the added runners, then HTTP."""
        return (*self._runners, self.http)

    def add_runner(self, runner: TriggerRunner) -> None:
        if self._started:
            raise RuntimeError("add runners before the host starts")
        self._runners.append(runner)

    @property
    def served_count(self) -> int:
        served = {t for r in self.runners for t in r.trigger_types}
        return sum(1 for f in self.index.functions if f.trigger_type in served)

    def unserved(self) -> list[str]:
        served = {t for r in self.runners for t in r.trigger_types}
        return [f"{f.name} ({f.trigger_type})" for f in self.index.functions if f.trigger_type not in served]

    def describe(self) -> list[str]:
        """Banner lines, one per function served: HTTP routes first, then the other runners'."""
        return [*self.http.describe(), *(line for r in self._runners for line in r.describe())]

    async def start(self) -> None:
        try:
            for runner in self.runners:
                await runner.start()
                self._started.append(runner)
        except BaseException:
            await self.stop()
            raise
        if missing := self.unserved():
            logger.warning("No devhost runner for: %s", ", ".join(missing))

    async def stop(self) -> None:
        while self._started:
            runner = self._started.pop()
            try:
                await runner.stop()
            except Exception:
                logger.exception("Stopping %s failed", type(runner).__name__)

    async def __aenter__(self) -> DevHost:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
