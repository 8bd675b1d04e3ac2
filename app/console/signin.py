"""Console sign-in and sign-out, with the API's users and password checks."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from app.api.client_address import client_address
from app.api.deps import NowDep, SessionDep, auth_policy, runtime_of
from app.console import session as cookie
from app.console.deps import ConsoleDep, ConsoleRoute, CsrfRejected
from app.console.render import render
from app.errors import Unauthorized
from app.users.service import authenticate, end_console_sessions
from app.users.throttle import TooManyAttempts

router = APIRouter(route_class=ConsoleRoute)

HOME_BY_ROLE = {
    "operator": "/console/intake",
    "unit_agent": "/console/queue",
    "supervisor": "/console/dashboard",
    "admin": "/console/admin",
}


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the console: never an open redirect to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    return target


def _login_form(request: Request, error: str | None, next_: str | None, status: int) -> Response:
    settings = runtime_of(request).settings
    seed = cookie.pre_session_seed(request)
    response = render(
        request,
        "login.html",
        {"csrf": cookie.csrf_token(seed, settings), "error": error, "next": next_ or ""},
        status_code=status,
    )
    cookie.set_pre_session(response, seed, settings)
    return response


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _login_form(request, None, _safe_next(next), 200)


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (argon2, with the API's throttling); set the session cookie."""
    settings = runtime_of(request).settings
    if not cookie.csrf_valid(request, csrf_token, settings, sign_in=True):
        raise CsrfRejected("Biểu mẫu đăng nhập đã hết hạn: tải lại trang rồi thử lại.")
    try:
        user = await authenticate(
            session,
            username=username,
            password=password,
            address=client_address(request, settings.trusted_proxy_networks),
            policy=auth_policy(settings),
            now=now,
        )
    except TooManyAttempts:
        await session.commit()
        return _login_form(request, "Sai quá nhiều lần: hãy thử lại sau ít phút.", next, 429)
    except Unauthorized:
        await session.commit()  # the failure count must survive
        return _login_form(request, "Tên đăng nhập hoặc mật khẩu không đúng.", next, 401)
    assert user.id is not None
    target = _safe_next(next) or HOME_BY_ROLE.get(user.role, "/console/queue")
    response = RedirectResponse(target, status_code=303)
    token = cookie.new_session(user.id, user.console_session_version, settings, now)
    cookie.set_session(response, token, settings)
    return response


@router.post("/logout")
async def logout(console: ConsoleDep) -> Response:
    """Sign out: the browser forgets its cookie, and the server revokes every console session
    of this user signed so far, so that a copy of the cookie is refused too, by every instance
    (the user's console_session_version goes up; app.console.session)."""
    user_id = console.principal.user_id
    assert user_id is not None  # a console session is always a user's
    await end_console_sessions(console.session, user_id=user_id)
    console.runtime.principals.forget(user_id=user_id)
    response = RedirectResponse("/console/login", status_code=303)
    cookie.clear_session(response)
    return response


@router.get("/")
async def home(console: ConsoleDep) -> Response:
    """Each role's first page."""
    return RedirectResponse(HOME_BY_ROLE.get(console.principal.role, "/console/queue"), 303)
