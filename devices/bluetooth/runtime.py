"""One asyncio event loop, on one thread, for every Bluetooth patch of the station.

bleak is asyncio-only and the platform stacks (BlueZ over D-Bus) want a single connection owner, so all
patches share one loop: a patch's work is waiting for notifications, which costs nothing while it waits.
The GUI thread never runs on this loop; it hands work over with `submit` and looks at the result later.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backends:
    """The bleak backends to use; None = the platform's own (BlueZ on Linux). Tests inject others."""

    client: type[BaseBleakClient] | None = None
    scanner: type[BaseBleakScanner] | None = None


class BleRuntime:
    def __init__(self, backends: Backends | None = None) -> None:
        self.backends = backends or Backends()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._unhandled)
        self._thread = threading.Thread(target=self._run, name="bluetooth", daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # a stack callback failing must be seen in the log, and must not end the loop all patches share
        log.warning("bluetooth loop: %s", context.get("message"), exc_info=context.get("exception"))

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the loop; safe from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run `coro` on the loop and wait for its result (never from the loop's own thread)."""
        return self.submit(coro).result(timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Cancel what still runs (each patch disconnects on its way out), then end the thread."""
        if not self._thread.is_alive():
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.call(_cancel_all(), timeout_s)
        except (TimeoutError, concurrent.futures.TimeoutError):
            log.warning("bluetooth tasks did not end within %.0f s", timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self._loop.close()
