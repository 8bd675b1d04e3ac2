"""Console request plumbing: who is signed in, CSRF on every form, the services they may use.

Pages call the same services, with the same Principal, as the API: the role checks and unit
scoping (an agent sees only their units' tickets) and the caller masking live there, not here.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from app.api.checked_route import CONTROL, UNSTORABLE, shown_name
from app.api.deps import (
    NowDep,
    ReadSessionDep,
    RouterDep,
    SessionDep,
    build_ticket_service,
    runtime_of,
)
from app.api.reports import build_report_service
from app.config import Settings
from app.console import session as cookie
from app.console.render import render
from app.db import transaction
from app.errors import AppError, Forbidden
from app.reports.service import ReportService
from app.routing.schema import Router
from app.runtime import Runtime
from app.tickets.service import TicketService
from app.users.principal import Principal
from app.users.principal_cache import PrincipalCache
from app.users.service import principal_for_user


class SignInRequired(Exception):
    """No valid console session: the page redirects to the sign-in form."""


class CsrfRejected(AppError):
    status, title, slug = 403, "Forbidden", "csrf"


class UnstorableInput(AppError):
    status, title, slug = 422, "Unprocessable Content", "validation"


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def refuse_unstorable(request: Request) -> None:
    """UnstorableInput naming the first query or form field holding a NUL or a lone surrogate
    (PostgreSQL refuses them: a 500 deep in a service otherwise), a C0 control character other
    than tab, LF and CR (as /api/v1 and Open311 refuse: app.api.checked_route.text_problem), or
    a file where every console form sends text (its repr would be filed). The console's share
    of CheckedRoute's check."""
    fields = list(request.query_params.multi_items())
    # Media types are case-insensitive (RFC 9110), as the form parser reads them.
    if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        fields += (await request.form()).multi_items()
    for name, value in fields:
        shown = shown_name(name)
        if not isinstance(value, str):
            raise UnstorableInput(f"Trường '{shown}' phải là chữ, không phải tệp.")
        if shown != name or UNSTORABLE.search(value):
            raise UnstorableInput(
                f"Trường '{shown}' có ký tự NUL hoặc ký tự không hợp lệ: xoá ký tự đó rồi gửi lại."
            )
        if bad := CONTROL.search(value):
            raise UnstorableInput(
                f"Trường '{shown}' có ký tự điều khiển U+{ord(bad.group()):04X} ở vị trí "
                f"{bad.start() + 1}: xoá ký tự đó rồi gửi lại (chỉ tab và xuống dòng được phép)."
            )


class ConsoleRoute(APIRoute):
    """Errors become pages: no session -> the sign-in form; an AppError -> its sentence.
    Unstorable text or a file in any field is refused (422 page) before the handler runs.

    The request's transaction has already rolled back when this runs (nothing half-written).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                await refuse_unstorable(request)
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)
            except AppError as exc:
                return render(
                    request,
                    "error.html",
                    {"status": exc.status, "message": exc.detail},
                    status_code=exc.status,
                )

        return guarded


@dataclass
class Console:
    """What a page handler needs: the signed-in principal, settings, the clock, the sessions.

    `session` is the request's transaction on the primary; `read_session` the one on the read
    URL (HOTLINE_READ_DATABASE_URL, a replica), or the primary session itself without one.
    """

    request: Request
    principal: Principal
    runtime: Runtime
    now: datetime
    session: AsyncSession
    router: Router
    read_session: AsyncSession

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def csrf(self) -> str:
        return cookie.csrf_token(self.request.cookies[cookie.SESSION_COOKIE], self.settings)

    def require(self, permission: str, doing: str) -> None:
        """403 (as a page) unless the role has `permission` — the API's own permission table."""
        if not self.principal.can(permission):
            raise Forbidden(f"Vai trò của bạn ({self.principal.role}) không được {doing}.")

    def tickets(self) -> TicketService:
        """The ticket service exactly as the API builds it."""
        return build_ticket_service(
            self.runtime, self.session, self.now, self.principal, self.router
        )

    def reports(self) -> ReportService:
        """The report service exactly as GET /api/v1/reports/* builds it: on the read session."""
        self.require("reports:read", "xem báo cáo")
        return build_report_service(self.runtime, self.read_session, self.now, self.principal)

    def page(self, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
        return render(
            self.request,
            template,
            {"me": self.principal, "csrf": self.csrf, **context},
            status_code=status_code,
        )


async def principal_of(request: Request, user_id: int) -> Principal | None:
    """The user's role and units, through the same cache the API uses (disabled -> None)."""
    state = runtime_of(request)
    cache: PrincipalCache = state.principals
    principal = cache.get(user_id)
    if principal is None:
        generation = cache.generation
        async with transaction(state.session_factory) as session:
            principal = await principal_for_user(session, user_id=user_id)
        if principal is not None:
            cache.put(user_id, principal, generation)
    return principal


async def signed_in(
    request: Request,
    now: NowDep,
    session: SessionDep,
    router: RouterDep,
    read_session: ReadSessionDep,
) -> Console:
    """The signed-in console user, or SignInRequired. POSTs must carry the form's CSRF token.

    Uses the API's clock and session dependencies, so that tests pinning the clock pin the
    console's too and a page is one transaction, like an API request.
    """
    runtime = runtime_of(request)
    settings = runtime.settings
    claims = cookie.session_claims(request, settings, now)
    principal = await principal_of(request, claims.user_id) if claims is not None else None
    if principal is None or claims is None:
        raise SignInRequired
    if claims.version != principal.console_session_version:
        raise SignInRequired  # signed out since (app.console.session): the cookie is revoked
    if request.method == "POST":
        form = await request.form()
        token = form.get("csrf_token")
        if not cookie.csrf_valid(request, token if isinstance(token, str) else None, settings):
            raise CsrfRejected("Biểu mẫu đã hết hạn hoặc không hợp lệ: tải lại trang rồi gửi lại.")
    return Console(request, principal, runtime, now, session, router, read_session)


ConsoleDep = Annotated[Console, Depends(signed_in)]
