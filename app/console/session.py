"""Console sign-in state: a signed session cookie and the CSRF token bound to it.

The cookie holds a signed token of kind "console" (the same signing as the API's tokens,
app.users.security), never the password or the role: the role and units are looked up per
request through the principal cache, so disabling a user takes effect at once. The token also
carries the user's console_session_version; signing out raises it
(app.users.service.end_console_sessions), so a cookie signed before, a copied one included,
is refused by every instance from then on.
CSRF: every form carries HMAC(secret, session cookie) — a token an attacker's page cannot
read or compute; before sign-in the login form is bound the same way to a random pre-session
cookie.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from app.config import Settings
from app.users import security

SESSION_COOKIE = "hotline_console"
PRE_SESSION_COOKIE = "hotline_console_pre"
TOKEN_KIND = "console"
PATH = "/console"


def new_session(user_id: int, version: int, settings: Settings, now: datetime) -> str:
    """A signed session token for `user_id` at their console_session_version `version`,
    valid for console_session_hours."""
    lifetime = timedelta(hours=settings.console_session_hours)
    return security.issue_token(
        user_id, TOKEN_KIND, settings.secret_key, now, lifetime, version=version
    )


def session_claims(
    request: Request, settings: Settings, now: datetime
) -> security.TokenClaims | None:
    """The user id and session version of a valid, unexpired session cookie; None without
    one. Whether that version is still the user's is the caller's to check."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return security.read_token(token, settings.secret_key, TOKEN_KIND, now)
    except security.InvalidToken:
        return None


def _set(response: Response, name: str, value: str, settings: Settings, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=settings.console_secure_cookie,
    )


def set_session(response: Response, token: str, settings: Settings) -> None:
    _set(response, SESSION_COOKIE, token, settings, int(settings.console_session_hours * 3600))
    response.delete_cookie(PRE_SESSION_COOKIE, path=PATH)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH)


def pre_session_seed(request: Request) -> str:
    """The login form's CSRF seed: the browser's pre-session cookie, or a new random one."""
    return request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(24)


def set_pre_session(response: Response, seed: str, settings: Settings) -> None:
    _set(response, PRE_SESSION_COOKIE, seed, settings, 3600)


def csrf_token(seed: str, settings: Settings) -> str:
    """The form token for a session (or pre-session) cookie value."""
    return hmac.new(
        settings.secret_key.encode(), b"console-csrf:" + seed.encode(), hashlib.sha256
    ).hexdigest()


def csrf_valid(
    request: Request, submitted: str | None, settings: Settings, *, sign_in: bool = False
) -> bool:
    """True when the submitted token matches the session cookie the browser sent along (for
    the sign-in form, `sign_in=True`, also the pre-session cookie). A signed-in form never takes
    the pre-session token: that cookie is a double-submit one, which a sibling site or a plain
    HTTP answer can plant together with a token its planter fetched."""
    if not submitted:
        return False
    for name in (SESSION_COOKIE, PRE_SESSION_COOKIE) if sign_in else (SESSION_COOKIE,):
        seed = request.cookies.get(name)
        if seed and hmac.compare_digest(csrf_token(seed, settings), submitted):
            return True
    return False
