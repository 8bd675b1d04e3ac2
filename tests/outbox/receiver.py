"""A real HTTP receiver on 127.0.0.1 (aiohttp) that records what it gets and answers as told."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    received: list[Received] = field(default_factory=list)
    # path -> statuses to answer in turn (then 200); or (status, headers) tuples.
    script: dict[str, list[Any]] = field(default_factory=dict)
    # path -> seconds to wait before answering
    delay: dict[str, float] = field(default_factory=dict)
    base: str = ""

    def at(self, path: str) -> str:
        return f"{self.base}{path}"

    def of(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.received.append(Received(request.path, dict(request.headers), body))
        if request.path in self.delay:
            await asyncio.sleep(self.delay[request.path])
        answers = self.script.get(request.path)
        if answers:
            answer = answers.pop(0)
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            return web.Response(status=status, headers=headers)
        return web.Response(status=200)


async def start_receiver() -> tuple[Receiver, web.AppRunner]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    receiver.base = f"http://127.0.0.1:{port}"
    return receiver, runner
