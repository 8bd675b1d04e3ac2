"""Open311 under hostile input: every refusal is the spec's 400 naming the field (never a 500),
nothing is written, and every answer stays well-formed JSON or XML whatever a ticket holds.

These routes are outside /openapi.json, so the schemathesis run in .ci/fuzz never reaches them.
"""

import json

import pytest
from sqlalchemy import update

from app.db import transaction
from app.tickets.models import Ticket
from tests.api.open311_support import BASE, integration_key, xml_document
from tests.api.test_open311 import POTHOLE, RUBBISH, file
from tests.conftest import create_ticket

FLOOD = {
    "service_code": "ngap-ung.ngap-duong",
    "attribute[kich-thuoc]": None,
    "attribute[lan-duong][]": None,
    "attribute[do-sau-cm]": "30",
}


RUBBISH_NOTE = {**RUBBISH, "service_code": "moi-truong.rac-thai"}


def errors_of(response, fmt):
    return response.json() if fmt == "json" else xml_document(response.content)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("requests", {"page": "²"}, "page"),
        ("requests", {"page_size": "³"}, "page_size"),
        ("servicerequestupdates", {"page_size": "²"}, "page_size"),
        ("requests", {"end_date": "0001-01-01T00:00:00"}, "end_date"),
        ("requests", {"start_date": "9999-12-31T00:00:00"}, "start_date"),
        ("servicerequestupdates", {"start_date": "9999-12-31T23:00:00+00:00"}, "start_date"),
        ("requests", {"updated_after": "0001-01-01T00:00:00+14:00"}, "updated_after"),
        ("requests", {"updated_before": "9999-12-31T23:59:59-12:00"}, "updated_before"),
        ("requests", {"service_code": "a\x00b"}, "service_code"),
        ("requests", {"service_request_id": "HN-2026-000001,\x00"}, "service_request_id"),
        ("requests", {"status": "open\x08"}, "status"),
    ],
)
async def test_queries_out_of_range_are_400_naming_the_field(client, path, params, field):
    for fmt in ("json", "xml"):
        r = await client.get(f"{BASE}/{path}.{fmt}", params=params)
        assert r.status_code == 400, r.text
        [error] = errors_of(r, fmt)
        assert error["description"].startswith(f"{field}:"), error


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": "Ổ gà\x00"}, "description"),
        ({"address_string": "Cầu Giấy\x00"}, "address_string"),
        ({"first_name": "\x00"}, "first_name"),
        ({"description": "Ổ gà\x1b[2J trước nhà"}, "description"),
        ({"last_name": "Nguyễn\x07"}, "last_name"),
        ({"attribute[kich-thuoc]": "lon\x00"}, "attribute[kich-thuoc]"),
        ({"address_string": "", "lat": "2_1", "long": "105.8"}, "lat"),
        ({"address_string": "", "lat": "٢١", "long": "105.8"}, "lat"),
        ({"address_string": "", "lat": "21.03", "long": "1_05"}, "long"),
        ({**FLOOD, "attribute[do-sau-cm]": "nan"}, "attribute[do-sau-cm]"),
        ({**FLOOD, "attribute[do-sau-cm]": "inf"}, "attribute[do-sau-cm]"),
        ({**FLOOD, "attribute[do-sau-cm]": "1e999"}, "attribute[do-sau-cm]"),
        ({**FLOOD, "attribute[do-sau-cm]": "3_0"}, "attribute[do-sau-cm]"),
    ],
)
async def test_unstorable_or_malformed_form_values_are_refused(client, auth, change, field):
    key = await integration_key(client, auth)
    for fmt in ("json", "xml"):
        form = {k: v for k, v in {**POTHOLE, "api_key": key, **change}.items() if v is not None}
        r = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert r.status_code == 400, r.text
        [error] = errors_of(r, fmt)
        assert error["description"].startswith(f"{field}:"), error
        assert "\x00" not in r.text
        assert "\x1b" not in r.text
    assert (await client.get("/tickets")).json()["items"] == []  # nothing half-written


async def test_a_control_character_is_named_with_its_position(client, auth):
    """The same words as /api/v1's refusal (app.api.checked_route.text_problem)."""
    key = await integration_key(client, auth)
    form = {**POTHOLE, "api_key": key, "description": "Ổ gà\x1b lớn"}
    r = await client.post(f"{BASE}/requests.json", data=form)
    assert r.status_code == 400, r.text
    assert r.json()[0]["description"].startswith(
        "description: contains the control character U+001B at character 5;"
    )


async def test_a_file_in_a_text_field_is_refused_not_stored_as_its_repr(client, auth):
    key = await integration_key(client, auth)
    form = {k: v for k, v in {**POTHOLE, "api_key": key}.items() if k != "description"}
    r = await client.post(
        f"{BASE}/requests.json", data=form, files={"description": ("note.txt", b"hello")}
    )
    assert r.status_code == 400, r.text
    assert r.json()[0]["description"].startswith("description:")
    assert (await client.get("/tickets")).json()["items"] == []


async def test_xml_stays_well_formed_whatever_a_ticket_holds(client, auth, app):
    """A control character is valid in a JSON string but has no place in XML 1.0: a ticket
    stored before /api/v1 refused them, made public, must still parse, and so must the
    refusal of a query value holding one."""
    made = await create_ticket(client, description="Cống tràn ra đường")
    async with transaction(app.state.runtime.session_factory) as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.id == made["id"])
            .values(description="Cống\x01 tràn ra đường")
        )
    patched = await client.patch(f"/tickets/{made['id']}", json={"public": True})
    assert patched.status_code == 200, patched.text
    r = await client.get(f"{BASE}/requests/{made['reference']}.xml")
    assert r.status_code == 200
    [doc] = xml_document(r.content)
    # The JSON answer keeps the text as stored; XML has U+FFFD where a control character was.
    stored = (await client.get(f"{BASE}/requests/{made['reference']}.json")).json()[0]
    assert "\x01" in stored["description"]
    assert doc["description"] == stored["description"].replace("\x01", "\ufffd")
    # A control character sent in a query is refused (as on /api/v1), in well-formed XML.
    bad = await client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "x\x01y"})
    assert bad.status_code == 400
    assert xml_document(bad.content)[0]["code"] == "400"


async def test_number_answers_stay_valid_json(client, auth):
    made = await file(client, auth, **{**FLOOD, "attribute[do-sau-cm]": "1e3"})
    r = await client.get(
        f"{BASE}/requests/{made['service_request_id']}.json", params={"extensions": "true"}
    )
    doc = json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert doc[0]["extended_attributes"]["attributes"][0]["values"] == [1000.0]


async def test_the_callers_own_identity_is_blanked_in_public_free_text(client, auth):
    """A viewer of None never sees a caller (app/privacy/masking.py): not in the caller block,
    and not typed into the description or address either, as webhooks already blank it."""
    made = await file(
        client,
        auth,
        description="Tôi là Nguyễn Văn An, gọi lại 0912 345 678 hoặc an@example.vn",
        address_string="Nhà Nguyễn Văn An, Số 5 Trần Thái Tông, Phường Cầu Giấy",
        **{**RUBBISH_NOTE, "attribute[ghi-chu]": "Gọi 0912 345 678 trước khi đến"},
    )
    reference = made["service_request_id"]
    for path in (f"requests/{reference}", "requests"):
        for fmt in ("json", "xml"):
            r = await client.get(f"{BASE}/{path}.{fmt}", params={"extensions": "true"})
            assert r.status_code == 200, r.text
            assert "trước khi đến" in r.text
            for value in ("Nguyễn Văn An", "0912 345 678", "an@example.vn"):
                assert value not in r.text, (path, fmt, value)
            assert "Trần Thái Tông" in r.text  # the rest of the text stays
