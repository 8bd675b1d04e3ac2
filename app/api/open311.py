"""/open311/v2: Open311 GeoReport v2 in JSON and XML (docs/open311.md). Thin: parses the
format suffix and the form, calls app.open311.service, renders the answer or the spec's errors.

Outside the OpenAPI document: GeoReport v2 is its own published spec (form bodies, XML).
"""

from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.api.checked_route import shown_name, text_problem
from app.api.client_address import client_address
from app.api.deps import (
    NowDep,
    RouterDep,
    SessionDep,
    build_ticket_service,
    current_user,
    runtime_of,
)
from app.api.idempotency import HEADER, checked_key
from app.api.problems import http_headers
from app.errors import AppError, Unauthorized, clip_echoes
from app.open311 import repository as repo
from app.open311.errors import KeyRefused, Open311Error, RequestInvalid, TooManyLookups
from app.open311.render import render
from app.open311.service import Open311Service
from app.users.principal import Principal

router = APIRouter(prefix="/open311/v2", include_in_schema=False)
PUBLIC = Principal(username="open311:public", role="integration")
FORMATS = ("json", "xml")


async def open311_service(
    request: Request, session: SessionDep, now: NowDep, router: RouterDep
) -> Open311Service:
    runtime = runtime_of(request)
    settings = runtime.settings
    tickets = build_ticket_service(runtime, session, now, PUBLIC, router)
    return Open311Service(
        tickets=tickets,
        extras=runtime.open311_extras,
        jurisdiction=settings.open311_jurisdiction,
        list_private=settings.open311_list_private,
    )


Service = Annotated[Open311Service, Depends(open311_service)]


# The resources an error may point to (app.open311.errors: `see`), by their names here.
SEE = {"services": "services.json"}


def _described(exc: Open311Error) -> str:
    return f"{exc.detail}; see {SEE[exc.see]}" if exc.see else exc.detail


def _errors(fmt: str, status: int, description: str, headers: dict[str, str] | None = None):
    # Clipped as every problem+json answer is: a long value the client sent is not echoed back.
    body, media = render([{"code": status, "description": clip_echoes(description)}], "errors", fmt)
    return Response(body, status, headers, media_type=media)


def _check_text(fields: Iterable[tuple[str, Any]]) -> None:
    """400 naming the first field that is not text fit to store: a file where text is expected
    (its repr would be filed), a NUL or lone surrogate (PostgreSQL refuses them), or a C0
    control character other than TAB, LF and CR (with its position) — the checks CheckedRoute
    makes for /api/v1 (app.api.checked_route.text_problem), in the spec's error format."""
    for name, value in fields:
        shown = shown_name(name)
        if not isinstance(value, str):
            raise RequestInvalid(f"{shown}: expected a text value, not a file")
        problem = text_problem(name) or text_problem(value)
        if problem:
            raise RequestInvalid(f"{shown}: {problem}")


async def answer(
    fmt: str,
    kind: str,
    service: Open311Service,
    params: dict[str, Any],
    make: Callable[[], Awaitable[Any]],
    request: Request | None = None,
    form: Any = None,
) -> Response:
    """Run `make` and render its document, or the spec's [{code, description}] errors. Errors
    are answers, not exceptions, so that the request's transaction still commits the throttle.
    With `request` (and the parsed `form`), unstorable text anywhere in them is a 400 first."""
    if fmt not in FORMATS:
        return _errors("json", 404, f"format '{fmt}' not served; use .json or .xml")
    try:
        if request is not None:
            _check_text(request.path_params.items())
            _check_text(request.query_params.multi_items())
        if form is not None:
            _check_text(form.multi_items())
        service.check_jurisdiction(params.get("jurisdiction_id"))
        document = await make()
    except Open311Error as exc:
        return _errors(fmt, exc.status, _described(exc), http_headers(exc))
    except AppError as exc:  # the ticket services' own checks (e.g. a bad area): the client's
        status = exc.status if exc.status in (403, 404, 409, 429) else 400
        return _errors(fmt, status, exc.detail, http_headers(exc))
    body, media = render(document, kind, fmt)
    return Response(body, 200, media_type=media)


async def _throttle(request: Request, service: Open311Service) -> None:
    """Status lookups per client address and minute (references must not be walked)."""
    settings = runtime_of(request).settings
    client = client_address(request, settings.trusted_proxy_networks)
    count = await repo.count_lookup(
        service.tickets.session, client=client, now=service.now, window=timedelta(minutes=1)
    )
    if count > settings.open311_lookups_per_minute:
        raise TooManyLookups("Too many lookups from this address; try again in a minute.")


@router.get("/discovery.{fmt}")
async def discovery(fmt: str, request: Request, service: Service) -> Response:
    """Service discovery: where v2 lives, in which formats."""
    base = str(request.base_url).rstrip("/") + "/open311/v2/"

    async def make() -> dict[str, Any]:
        return {
            "changeset": "2026-11-29T00:00:00+07:00",
            "contact": "Tổng đài 1022 Hà Nội, https://1022.hanoi.gov.vn",
            "key_service": "Xin API key từ quản trị hệ thống 1022 (vai trò integration).",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-11-29T00:00:00+07:00",
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        }

    return await answer(fmt, "discovery", service, {}, make, request)


@router.get("/services.{fmt}")
async def services(fmt: str, request: Request, service: Service) -> Response:
    """One service per leaf topic."""

    async def make() -> Any:
        return service.services()

    return await answer(fmt, "services", service, dict(request.query_params), make, request)


@router.get("/services/{code}.{fmt}")
async def service_definition(code: str, fmt: str, request: Request, service: Service) -> Response:
    """The attributes of one service."""

    async def make() -> Any:
        return service.definition(code)

    return await answer(
        fmt, "service_definition", service, dict(request.query_params), make, request
    )


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request, service: Service, now: NowDep) -> Response:
    """File a service request (form-encoded, with api_key of the `integration` role). An
    Idempotency-Key header makes a retry safe, as on POST /api/v1/tickets (app.api.idempotency):
    the same form answers the same service_request_id, another form 409."""
    form = await request.form()
    fields = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    params = {key: values[-1] for key, values in fields.items() if values}

    async def make() -> Any:
        principal = await _integration(request, now, params.get("api_key"), "open311:submit")
        service.tickets.principal = principal  # events and created_by name the app
        key = checked_key(request.headers.get(HEADER))
        return await service.submit(fields, key)

    return await answer(fmt, "requests", service, params, make, request, form)


async def _integration(request: Request, now: Any, key: str | None, permission: str) -> Principal:
    key = key or request.headers.get("x-api-key")
    if not key:
        raise KeyRefused("api_key: required to file requests")
    try:
        principal = await current_user(request, now, None, key)
    except Unauthorized as exc:
        raise KeyRefused("api_key: unknown or revoked") from exc
    if not principal.can(permission):
        raise KeyRefused(f"api_key: the role {principal.role} may not do this")
    return principal


async def _feedback(fmt: str, reference: str, request: Request, service: Open311Service, now: Any):
    form = await request.form()
    params = {key: value for key in form if isinstance(value := form.get(key), str)}

    async def make() -> Any:
        principal = await _integration(request, now, params.get("api_key"), "open311:feedback")
        service.tickets.principal = principal
        await _throttle(request, service)  # it proves a phone number: no walking either
        return await service.feedback(reference, params)

    return await answer(fmt, "requests", service, params, make, request, form)


@router.post("/requests/{reference}/feedback.{fmt}")
async def post_feedback_fmt(
    reference: str, fmt: str, request: Request, service: Service, now: NowDep
) -> Response:
    """Extension: the citizen's feedback after a resolution (form: api_key, phone, fixed,
    rating, comment); "no" reopens the ticket for the unit that resolved it."""
    return await _feedback(fmt, reference, request, service, now)


@router.post("/requests/{reference}/feedback")
async def post_feedback(
    reference: str, request: Request, service: Service, now: NowDep
) -> Response:
    """The same as feedback.json."""
    return await _feedback("json", reference, request, service, now)


@router.get("/requests.{fmt}")
async def get_requests(fmt: str, request: Request, service: Service) -> Response:
    """Requests by id list or by filters; `extensions=true` adds extended status."""
    params = dict(request.query_params)

    async def make() -> Any:
        return await service.requests(params)

    return await answer(fmt, "requests", service, params, make, request)


@router.get("/requests/{reference}.{fmt}")
async def get_request(reference: str, fmt: str, request: Request, service: Service) -> Response:
    """One request by reference; `phone` (the number used) adds the resolution text."""
    params = dict(request.query_params)

    async def make() -> Any:
        await _throttle(request, service)
        extensions = params.get("extensions", "").lower() == "true"
        return await service.request(reference, phone=params.get("phone"), extensions=extensions)

    return await answer(fmt, "requests", service, params, make, request)


@router.get("/tokens/{token}.{fmt}")
async def get_token(token: str, fmt: str, request: Request, service: Service) -> Response:
    """A token's request id (tokens are the references: requests are filed in real time)."""

    async def make() -> Any:
        await _throttle(request, service)
        return await service.token(token)

    return await answer(fmt, "requests", service, dict(request.query_params), make, request)


@router.get("/servicerequestupdates.{fmt}")
async def updates(fmt: str, request: Request, service: Service) -> Response:
    """FixMyStreet's extension: public updates in a period, each with a stable update_id."""
    params = dict(request.query_params)

    async def make() -> Any:
        return await service.updates(params)

    return await answer(fmt, "updates", service, params, make, request)
