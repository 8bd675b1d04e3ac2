"""The `georeport` client from PyPI, as a citizen app would use it, against the app served by
uvicorn on a loopback port (the client speaks `requests`, so it needs a real URL)."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from georeport import GeoReport

from app.config import Settings
from app.main import create_app
from tests.api.open311_support import BASE, integration_key, validate
from tests.api.test_open311 import POTHOLE


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port, in a thread of its own; its /open311/v2 URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/open311/v2"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_client_reads_services_definitions_and_requests(
    served: str, client: Any, auth: Any, fmt: str
) -> None:
    key = await integration_key(client, auth)
    made = await client.post(f"{BASE}/requests.json", data={**POTHOLE, "api_key": key})
    assert made.status_code == 200, made.text
    reference = made.json()[0]["service_request_id"]
    geo = GeoReport(served, jurisdiction="ha-noi", output_format=fmt)

    services = await asyncio.to_thread(geo.get_service_list)
    codes = [s["service_code"] for s in services]
    assert "giao-thong.mat-duong" in codes
    definition = await asyncio.to_thread(geo.get_service_definition, "giao-thong.mat-duong")
    requests = await asyncio.to_thread(geo.get_service_requests)
    one = await asyncio.to_thread(geo.get_service_request, reference)
    if fmt == "json":
        validate(services, "services.json")
        validate(definition, "service-definition.json")
        validate(requests, "requests.json")
        validate(one, "request.json")
        attributes = definition["attributes"]
    else:  # xmltodict: a one-element list comes back as a dict, the rest as lists
        attributes = definition["attributes"]["attribute"]
        requests = requests if isinstance(requests, list) else [requests]
    assert [a["code"] for a in attributes] == ["kich-thuoc", "lan-duong"]
    assert [r["service_request_id"] for r in requests] == [reference]
    assert one["service_request_id"] == reference
