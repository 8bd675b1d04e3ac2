"""`hotline serve`: uvicorn, each worker listening on a socket of its own (SO_REUSEPORT).

uvicorn's workers share one listening socket, and the worker that wakes first accepts a whole
burst of new connections. Keep-alive clients (a load balancer's pool, a telephony gateway)
connect in bursts and then stay: with 32 clients connecting at once we saw splits of 30 to 2,
one worker saturated, the other idle, and half the throughput. With a socket per worker the
kernel spreads new connections over the workers by their addresses instead.

uvicorn's supervisor (restarts, health checks, signals) is kept; only its worker is swapped
for one that binds its own socket. Where SO_REUSEPORT is missing, uvicorn serves as usual.

Every server, one worker or many, also gets a watchdog when it starts to stop (SIGTERM): if
the process is still there app.shutdown.WATCHDOG_SECONDS later, its threads' stacks and its
tasks are logged and it exits, rather than keep a deploy or the supervisor waiting for ever.
"""

import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
import time
import traceback
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from app.shutdown import WATCHDOG_SECONDS

log = logging.getLogger("hotline.shutdown")


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _stuck_report(loop: asyncio.AbstractEventLoop | None) -> str:
    """Every thread's stack and every task of `loop`, for the log of a stop that hangs."""
    lines = []
    for ident, frame in sys._current_frames().items():
        lines.append(f"thread {ident}:\n" + "".join(traceback.format_stack(frame)))
    if loop is not None:
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:  # the set changed under us: the loop is running after all
            tasks = []
        lines.extend(f"task {task!r}" for task in tasks)
    return "\n".join(lines)


def _watch(server: uvicorn.Server, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
    """Wait for the stop to begin (uvicorn's signal handler sets should_exit), then give the
    process `seconds` to end; past that, log its stacks and tasks and exit. Polls rather than
    being started by the signal: a handler that starts a thread could deadlock."""
    while not server.should_exit:
        time.sleep(0.5)
    time.sleep(seconds)
    log.error(
        "still stopping %.0f s after the stop began; exiting now\n%s",
        seconds,
        _stuck_report(loop),
    )
    os._exit(1)


class _BoundedServer(uvicorn.Server):
    """uvicorn's server, whose stop is bounded: a watchdog ends it WATCHDOG_SECONDS after
    SIGTERM (or SIGINT) if it is still there, wherever it hangs, even before "Shutting down"."""

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        threading.Thread(
            target=_watch,
            args=(self, asyncio.get_running_loop(), WATCHDOG_SECONDS),
            name="stop-watchdog",
            daemon=True,  # never what keeps the process alive
        ).start()
        await super().serve(sockets=sockets)


class _BoundedWorker(multiprocess.Process):
    """A uvicorn worker process running a _BoundedServer."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = _BoundedServer(config=self.config)
        return self._server


class _OwnSocketWorker(_BoundedWorker):
    """A worker that binds its own SO_REUSEPORT socket instead of sharing one."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        super().target([_bind(self.config.host, self.config.port, reuse_port=True)])


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the app factory at import path `app`, as uvicorn.run would (with `workers`
    processes under uvicorn's supervisor when more than one), each stop bounded."""
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    if workers <= 1:
        server = _BoundedServer(config=config)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    if hasattr(socket, "SO_REUSEPORT"):
        # Fail now, as uvicorn does, if the port is taken: a plain bind fails even against
        # sockets that share it among themselves (say, a forgotten `hotline serve`).
        try:
            _bind(host, port, reuse_port=False).close()
        except OSError as exc:
            raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        worker, sockets = _OwnSocketWorker, []
    else:
        worker, sockets = _BoundedWorker, [config.bind_socket()]
    uvicorns_worker = multiprocess.Process
    multiprocess.Process = worker  # the supervisor creates its workers by this name
    try:
        multiprocess.Multiprocess(config, sockets=sockets).run()
    finally:
        multiprocess.Process = uvicorns_worker
