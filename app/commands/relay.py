"""`hotline webhooks relay`: the outbox relay (webhooks and e-mail) alone, at a lower CPU
priority (`--nice`, default 10), for instances whose own relays are off
(HOTLINE_WEBHOOK_RELAY_SECONDS=0).

Why: when intake fills the cores, the kernel gives a nice-10 process about a tenth of a normal
one's share (CFS weights: 110 against 1024), so notifications wait a little longer and callers
do not (docs/webhooks.md, "Where the relay runs"; measured in docs/performance.md).
"""

import argparse
import asyncio
import contextlib
import os
import signal
from typing import Any

from app.cli_support import CommandError
from app.config import get_settings

# How long a stop waits for the cancelled relay to close its client and listener.
STOP_SECONDS = 15.0


async def _relay(args: argparse.Namespace) -> int:
    """Run the relay until SIGTERM or SIGINT; 0 after a clean stop. Raises what building the
    runtime raises (an invalid file in the rules directory, with its line)."""
    from app.db import utcnow
    from app.runtime import build_runtime

    if args.nice:
        try:
            os.nice(args.nice)
        except PermissionError:
            raise CommandError(
                f"--nice {args.nice}: only root (CAP_SYS_NICE) may raise a process's priority; "
                "give 0 or more"
            ) from None
    runtime = build_runtime(get_settings(), utcnow(), command=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    relay = asyncio.create_task(runtime.relay.run(), name="outbox-relay")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({relay, stopping}, return_when=asyncio.FIRST_COMPLETED)
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(STOP_SECONDS):
                await relay
        if not relay.done():
            return 1  # not closed within STOP_SECONDS: abandoned (its batch keeps its lease)
        return 0 if relay.cancelled() or relay.exception() is None else 1
    finally:
        stopping.cancel()
        await runtime.close()


def add_command(hooks: Any) -> None:
    """Add `relay` to the `webhooks` group (app.outbox.cli.add_webhook_commands)."""
    relay = hooks.add_parser(
        "relay", help="run the outbox relay alone, at a lower CPU priority, until SIGTERM"
    )
    relay.add_argument(
        "--nice", type=int, default=10, help="added to the process's niceness (0: as it is)"
    )
    relay.set_defaults(func=lambda args: asyncio.run(_relay(args)))
