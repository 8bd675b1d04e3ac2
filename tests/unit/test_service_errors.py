"""app.api.service_errors: the services' errors as the API has always answered them."""

import pytest

from app.api.problems import http_headers
from app.api.service_errors import speaking_http
from app.catalog.codes import UnknownCode
from app.errors import ValidationFailed, field_error
from app.tickets.intake import KeyInProgress
from app.tickets.queries import NoUnitsOfYourOwn


def answered(exc: Exception, *, in_query: bool = False) -> Exception:
    with pytest.raises(Exception) as caught, speaking_http(in_query=in_query):
        raise exc
    return caught.value


def test_an_unknown_code_with_nothing_close_points_to_the_list():
    out = answered(UnknownCode(["topic"], "topic", "zzzz", []))
    assert out.extra["errors"] == [
        {"loc": ["topic"], "msg": "unknown topic 'zzzz'; see GET /api/v1/topics", "suggestions": []}
    ]
    assert out.detail == "topic: unknown topic 'zzzz'; see GET /api/v1/topics"


def test_an_unknown_code_with_close_ones_is_answered_as_the_service_said():
    exc = UnknownCode(["unit"], "unit", "ubnd-x", ["ubnd-y"])
    assert answered(exc) is exc
    assert exc.extra["errors"][0]["msg"] == "unknown unit 'ubnd-x'; did you mean ubnd-y?"


def test_search_parameters_are_placed_in_the_query_string_once():
    out = answered(NoUnitsOfYourOwn(["unit"]), in_query=True)
    error = out.extra["errors"][0]
    assert error["loc"] == ["query", "unit"]
    assert error["msg"].endswith("so give unit codes (see GET /api/v1/units)")
    # An error that already says so (app.tickets.lifecycle's status) is left as it is.
    already = ValidationFailed([field_error(["query", "status"], "unknown status 'x'")])
    assert answered(already, in_query=True) is already


def test_a_request_in_progress_is_asked_to_retry_after_its_delay():
    out = answered(KeyInProgress("in progress"))
    assert out.status == 409 and http_headers(out) == {"Retry-After": "1"}


def test_a_detail_of_the_services_own_stays():
    exc = ValidationFailed([field_error(["cursor"], "bad")], detail="Start again.")
    out = answered(exc, in_query=True)
    assert (out.detail, out.extra["errors"][0]["loc"]) == ("Start again.", ["query", "cursor"])
