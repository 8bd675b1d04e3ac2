"""GET /metrics: Prometheus text exposition of this instance (all its worker processes)."""

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response

from app import metrics
from app.api.deps import runtime_of
from app.config import Settings
from app.errors import Forbidden, Unauthorized
from app.periodic import sample_pools

router = APIRouter(tags=["health"])


def _admitted(request: Request, settings: Settings) -> None:
    """Let the scrape through if it shows the token or comes from an allowed network; outside
    production, also when neither is configured. Raises Unauthorized or Forbidden."""
    token, networks = settings.metrics_token, settings.metrics_networks
    if token:
        sent = request.headers.get("authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return
    if networks:
        # The peer itself, not X-Forwarded-For: Prometheus scrapes each instance directly.
        peer = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            address = None
        if address is not None and any(
            address in ipaddress.ip_network(n.strip(), strict=False)
            for n in networks.split(",")
            if n.strip()
        ):
            return
    if not token and not networks:
        if settings.env != "production":
            return
        raise Forbidden(
            "Metrics are closed in production until HOTLINE_METRICS_TOKEN or "
            "HOTLINE_METRICS_NETWORKS is set."
        )
    if token and not networks:
        raise Unauthorized("Send 'Authorization: Bearer <HOTLINE_METRICS_TOKEN>'.")
    raise Forbidden("Scrape from a network in HOTLINE_METRICS_NETWORKS or send the token.")


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    """Counters, histograms and gauges in the Prometheus text format (docs/operations.md)."""
    _admitted(request, runtime_of(request).settings)
    sample_pools(runtime_of(request))
    body, media_type = metrics.render()
    return Response(body, media_type=media_type)
