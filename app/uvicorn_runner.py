"""`hotline serve`: uvicorn, each worker listening on a socket of its own (SO_REUSEPORT).

uvicorn's workers share one listening socket, and the worker that wakes first accepts a whole
burst of new connections. Keep-alive clients (a load balancer's pool, a telephony gateway)
connect in bursts and then stay: with 32 clients connecting at once we saw splits of 30 to 2,
one worker saturated, the other idle, and half the throughput. With a socket per worker the
kernel spreads new connections over the workers by their addresses instead.

uvicorn's supervisor (restarts, health checks, signals) is kept; only its worker is swapped
for one that binds its own socket. Where SO_REUSEPORT is missing, uvicorn serves as usual.
"""

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import multiprocess


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


class _OwnSocketWorker(multiprocess.Process):
    """A uvicorn worker process that binds its own SO_REUSEPORT socket instead of sharing one."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        super().target([_bind(self.config.host, self.config.port, reuse_port=True)])


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the app factory at import path `app`, as uvicorn.run would."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    # Fail now, as uvicorn does, if the port is taken: a plain bind fails even against sockets
    # that share it among themselves (say, a forgotten `hotline serve`).
    try:
        _bind(host, port, reuse_port=False).close()
    except OSError as exc:
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    shared_socket_worker = multiprocess.Process
    multiprocess.Process = _OwnSocketWorker  # the supervisor creates its workers by this name
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        multiprocess.Process = shared_socket_worker
