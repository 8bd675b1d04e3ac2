"""Open311's errors: the spec answers [{code, description}], code being the HTTP status.

Like the rest of the error family (app.errors) each class carries its status; the service
raises them without knowing a request or a format, and app.api.open311 renders them as JSON or
XML. `see` names the resource a client can look in ("services": the service list), which the
API turns into the hint under its own name.
"""

from app.errors import AppError


class Open311Error(AppError):
    """A request the spec's way refuses: 400 unless a subclass says otherwise."""

    status = 400

    def __init__(self, description: str, *, see: str | None = None):
        super().__init__(description)
        self.see = see


class RequestInvalid(Open311Error):
    """A missing or malformed field or parameter (the description names it)."""

    status = 400


class RequestNotFound(Open311Error):
    """An unknown service request, service or jurisdiction; a wrong phone answers the same."""

    status = 404


class KeyRefused(Open311Error):
    """An API key missing, unknown, revoked, or of a role that may not file."""

    status = 403


class TooManyLookups(Open311Error):
    """Status lookups past the per-address limit of a minute."""

    status = 429
