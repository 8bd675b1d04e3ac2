"""Edges a fresh tester found: filters and parameters that used to be ignored, input echoed back,
bodies that are not JSON, and headers given empty. Each answer is problem+json naming the field."""

import json

import pytest

from tests.api.test_problems import assert_problem
from tests.conftest import create_ticket, ticket_body

# -- unknown codes in list filters --------------------------------------------------------


async def test_an_unknown_unit_in_the_ticket_list_is_422_with_close_codes(client):
    await create_ticket(client)
    response = await client.get("/tickets", params={"unit": "ubnd-phuong-cau-giy"})
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["query", "unit"]
    assert "ubnd-phuong-cau-giay" in error["suggestions"]
    assert "did you mean" in error["msg"]


async def test_an_unknown_unit_with_nothing_close_points_to_the_unit_list(client):
    response = await client.get("/tickets", params={"unit": "zzz"})
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["query", "unit"]
    assert error["suggestions"] == []
    assert error["msg"].endswith("see GET /api/v1/units")


async def test_unit_mine_and_known_codes_still_filter(client, auth):
    mine = await client.get("/tickets", params={"unit": "mine"}, headers=auth("agent.caugiay"))
    assert mine.status_code == 200, mine.text
    listed = await client.get("/tickets", params={"unit": "ubnd-phuong-cau-giay,tong-dai-1022"})
    assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("param", ["topic", "area"])
async def test_unknown_topic_and_area_filters_are_422(client, param):
    response = await client.get("/tickets", params={param: "zzz-khong-co"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", param]


# -- Idempotency-Key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["", "   ", "x" * 201, "caf\u00e9"], ids=["empty", "blank", "long", "latin1"]
)
async def test_an_empty_or_malformed_idempotency_key_is_422_naming_the_header(client, key):
    response = await client.post(
        "/tickets",
        content=json.dumps(ticket_body()).encode(),
        headers={"Idempotency-Key": key.encode("latin-1"), "content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "1 to 200 visible ASCII characters" in error["msg"]
    assert (await client.get("/tickets")).json()["items"] == []


async def test_a_valid_idempotency_key_still_replays(client):
    headers = {"Idempotency-Key": "call 2026-11-29/0001"}
    first = await client.post("/tickets", json=ticket_body(), headers=headers)
    again = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


# -- a body that is not JSON --------------------------------------------------------------


async def test_a_body_that_is_not_json_names_the_body_with_line_and_column(client):
    response = await client.post(
        "/tickets",
        content=b'{"channel": "phone",\n  "description": "x",\n  oops}',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["body"]
    assert error["msg"].startswith("is not valid JSON at line 3, column 3: ")
    assert "Expecting property name" in error["msg"]
    assert body["detail"].startswith("body: is not valid JSON")


async def test_a_body_that_is_not_utf8_is_named_too(client):
    response = await client.post(
        "/tickets",
        content=b'{"description": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body"]
    assert "not UTF-8" in body["errors"][0]["msg"]


def test_fastapis_own_json_error_never_gives_an_offset_as_a_location():
    from app.api.plain_errors import plain_errors

    raw = {
        "type": "json_invalid",
        "loc": ("body", 20),
        "msg": "JSON decode error",
        "ctx": {"error": "Expecting value"},
    }
    (error,) = plain_errors([raw])
    assert error["loc"] == ["body"]
    assert error["msg"] == "is not valid JSON at character 21: Expecting value"


# -- query parameters a route does not take -----------------------------------------------


@pytest.mark.parametrize("report", ["sla", "backlog", "volume"])
async def test_a_misspelt_report_parameter_is_422_with_the_close_name(client, auth, report):
    response = await client.get(
        f"/reports/{report}", params={"unti": "tong-dai-1022"}, headers=auth("supervisor")
    )
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["query", "unti"]
    assert error["suggestions"] == ["unit"]
    assert "did you mean unit?" in error["msg"]


async def test_an_unknown_parameter_with_nothing_close_lists_what_the_route_takes(client):
    response = await client.get("/tickets", params={"zzzzzz": "1", "status": "open"})
    body = assert_problem(response, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["query", "zzzzzz"] and error["suggestions"] == []
    assert "remove it" in error["msg"] and "received_from" in error["msg"]


async def test_declared_aliases_and_dependency_parameters_are_known(client, auth):
    response = await client.get(
        "/reports/sla",
        params={"from": "2026-11-01", "to": "2026-11-02", "format": "csv", "unit": "tong-dai-1022"},
        headers=auth("supervisor"),
    )
    assert response.status_code == 200, response.text


# -- long input is not echoed back --------------------------------------------------------

BIG = "a" * 60_000


@pytest.mark.parametrize(
    "path, params, user",
    [
        ("/tickets", {"topic": BIG}, "operator"),
        ("/tickets", {"area": BIG}, "operator"),
        ("/tickets", {"cursor": BIG}, "operator"),
        ("/tickets", {"caller_phone": BIG}, "operator"),
        ("/tickets", {BIG: "1"}, "operator"),
        (f"/tickets/{BIG}", {}, "operator"),
        ("/reports/sla", {"unit": BIG}, "supervisor"),
        ("/reports/sla", {"group_by": BIG}, "supervisor"),
        ("/reports/sla", {"from": BIG}, "supervisor"),
    ],
    ids=["topic", "area", "cursor", "phone", "name", "path", "unit", "group_by", "from"],
)
async def test_an_error_quotes_at_most_a_clipped_part_of_a_long_value(
    client, auth, path, params, user
):
    response = await client.get(path, params=params, headers=auth(user))
    assert response.status_code in (404, 422), response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) < 4000, response.text[:300]
    assert BIG not in response.text and "a" * 201 not in response.text


def test_clipping_keeps_the_sentence_around_a_long_value():
    from app.errors import clip_echoes

    message = f"unknown unit '{BIG}'; did you mean ubnd-phuong-cau-giay?"
    clipped = clip_echoes(message)
    assert clipped == (
        f"unknown unit '{'a' * 200}… (60000 characters in all)'; did you mean ubnd-phuong-cau-giay?"
    )
    assert clip_echoes("unknown unit 'zzz'") == "unknown unit 'zzz'"


async def test_an_open311_error_quotes_a_clipped_value(client):
    response = await client.get("http://test/open311/v2/requests.json", params={"start_date": BIG})
    assert response.status_code == 400, response.text[:300]
    assert len(response.content) < 1000
    assert "… (60000 characters in all)" in response.json()[0]["description"]


# -- control characters in text -----------------------------------------------------------


@pytest.mark.parametrize("char", ["\x01", "\x07", "\x0b", "\x1b", "\x1f"])
@pytest.mark.parametrize(
    "override, loc",
    [
        ({"description": "Rác{c} thải"}, ["description"]),
        ({"address": "Ngõ{c} 25"}, ["address"]),
        ({"caller": {"name": "Nguyễn{c} Văn An"}}, ["caller", "name"]),
    ],
    ids=["description", "address", "name"],
)
async def test_a_control_character_in_free_text_is_422_with_its_position(
    client, char, override, loc
):
    body = json.loads(json.dumps(ticket_body(**override)).replace("{c}", json.dumps(char)[1:-1]))
    response = await client.post("/tickets", json=body)
    problem = assert_problem(response, 422)
    (error,) = problem["errors"]
    assert error["loc"] == loc
    text = body
    for part in loc:
        text = text[part]
    position = text.index(char) + 1
    assert f"U+{ord(char):04X} at character {position};" in error["msg"]
    assert (await client.get("/tickets")).json()["items"] == []


async def test_a_control_character_in_a_note_is_422(client):
    ticket = await create_ticket(client)
    response = await client.post(f"/tickets/{ticket['id']}/notes", json={"text": "ok\x08"})
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["text"]
    assert "U+0008 at character 3" in problem["errors"][0]["msg"]


async def test_tab_newline_and_vietnamese_text_are_accepted(client):
    import unicodedata

    sent = unicodedata.normalize("NFD", "Rác thải\tùn ứ\r\nđầu ngõ 25,\nphường Cầu Giấy")
    ticket = await create_ticket(client, description=sent, address="Ngõ 25\tTrần Thái Tông")
    read = (await client.get(f"/tickets/{ticket['id']}")).json()
    # Stored as always: composed (NFC), runs of white space as one space.
    assert read["description"] == "Rác thải ùn ứ đầu ngõ 25, phường Cầu Giấy"
    assert unicodedata.is_normalized("NFC", read["description"])
    assert read["address"] == "Ngõ 25 Trần Thái Tông"


async def test_a_control_character_in_a_query_parameter_is_422(client):
    response = await client.get("/tickets", params={"q": "rac\x1bthai"})
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["query", "q"]
    assert "U+001B at character 4" in problem["errors"][0]["msg"]


# -- Open311 filing with an Idempotency-Key -----------------------------------------------


async def _file_open311(client, auth, key, **changes):
    from tests.api.open311_support import BASE, integration_key
    from tests.api.test_open311 import POTHOLE

    api_key = await integration_key(client, auth)
    form = {**POTHOLE, "api_key": api_key, **changes}
    return await client.post(f"{BASE}/requests.json", data=form, headers={"Idempotency-Key": key})


async def test_an_open311_retry_with_the_same_key_answers_the_same_request(client, auth):
    first = await _file_open311(client, auth, "app-42-report-7")
    again = await _file_open311(client, auth, "app-42-report-7")
    assert first.status_code == 200 and again.status_code == 200, again.text
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert again.json()[0]["service_notice"] == first.json()[0]["service_notice"]
    assert len((await client.get("/tickets")).json()["items"]) == 1
    other = await _file_open311(client, auth, "app-42-report-8")
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]


@pytest.mark.parametrize(
    "change",
    [{"description": "Một ổ gà khác"}, {"attribute[kich-thuoc]": "nho"}, {"account_id": "x-1"}],
    ids=["description", "attribute", "account"],
)
async def test_an_open311_key_reused_with_another_form_is_409(client, auth, change):
    first = await _file_open311(client, auth, "app-42-report-9")
    assert first.status_code == 200, first.text
    again = await _file_open311(client, auth, "app-42-report-9", **change)
    assert again.status_code == 409, again.text
    (error,) = again.json()
    assert error["code"] == 409 and "different request body" in error["description"]
    assert len((await client.get("/tickets")).json()["items"]) == 1


async def test_an_empty_open311_key_is_refused_naming_the_header(client, auth):
    response = await _file_open311(client, auth, "")
    assert response.status_code == 400, response.text
    assert response.json()[0]["description"].startswith("header.Idempotency-Key: is empty")
    assert (await client.get("/tickets")).json()["items"] == []


# -- Open311 servicerequestupdates a page at a time ---------------------------------------


async def test_service_request_updates_page_in_a_stable_order(client, auth):
    from tests.api.open311_support import BASE
    from tests.api.test_open311 import file

    for _ in range(3):
        await file(client, auth)
    url = f"{BASE}/servicerequestupdates.json"
    everything = (await client.get(url)).json()
    ids = [int(u["update_id"]) for u in everything]
    assert len(ids) >= 4 and ids == sorted(ids)
    pages = []
    for page in range(1, len(ids) + 2):
        answer = await client.get(url, params={"page": page, "page_size": 2})
        assert answer.status_code == 200, answer.text
        pages.append([int(u["update_id"]) for u in answer.json()])
    assert [i for p in pages for i in p] == ids
    assert all(len(p) == 2 for p in pages[: len(ids) // 2]) and pages[-1] == []
    xml = await client.get(f"{BASE}/servicerequestupdates.xml", params={"page": 2, "page_size": 2})
    assert xml.status_code == 200 and xml.text.count("<update_id>") == len(pages[1])


@pytest.mark.parametrize(
    "params", [{"page": "0"}, {"page": "x"}, {"page_size": "1001"}, {"page_size": "0"}]
)
async def test_service_request_updates_refuse_a_bad_page(client, params):
    from tests.api.open311_support import BASE

    response = await client.get(f"{BASE}/servicerequestupdates.json", params=params)
    assert response.status_code == 400, response.text
    assert response.json()[0]["description"].startswith(next(iter(params)))
