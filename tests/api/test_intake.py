"""POST /tickets: validation, normalisation, area resolution, first assignment, idempotency."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import create_ticket, ticket_body


async def test_create_returns_ticket_with_location_reference_and_assignment(client):
    response = await client.post("/tickets", json=ticket_body())
    assert response.status_code == 201
    ticket = response.json()
    assert response.headers["location"].endswith(f"/api/v1/tickets/{ticket['id']}")
    assert response.headers["etag"] == f'"{ticket["id"]}-1"'
    year = datetime.now(UTC).astimezone().year
    assert ticket["reference"] == f"HN-{year}-{ticket['id']:06d}"
    assert ticket["status"] == "assigned"
    assert ticket["caller"]["phone"] == "+84912345678"
    assert ticket["area"] == {"code": "phuong-cau-giay", "name": "Phường Cầu Giấy"}
    assert ticket["topic"]["code"] == "moi-truong.rac-thai"
    # Routed by the rules: waste in a ward goes to that ward's People's Committee.
    current = ticket["current_assignment"]
    assert current["unit"]["code"] == "ubnd-phuong-cau-giay"
    assert current["rule_id"] == "moi-truong" and len(current["ruleset_version"]) == 16
    assert ticket["received_at"].endswith("+07:00")
    assert "acknowledge" in ticket["allowed_actions"]
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assert [e["kind"] for e in events] == ["created", "assigned"]
    assert all(e["actor"] == "operator" for e in events)


async def test_reference_and_id_both_find_the_ticket(client):
    ticket = await create_ticket(client)
    by_ref = await client.get(f"/tickets/{ticket['reference']}")
    assert by_ref.status_code == 200 and by_ref.json()["id"] == ticket["id"]
    lower = await client.get(f"/tickets/{ticket['reference'].lower()}")
    assert lower.status_code == 200
    wrong_year = ticket["reference"].replace("HN-20", "HN-19")
    assert (await client.get(f"/tickets/{wrong_year}")).status_code == 404


@pytest.mark.parametrize(
    "raw",
    ["0912 345 678", "0912.345.678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"],
)
async def test_vietnamese_phone_formats_normalise_to_e164(client, raw):
    ticket = await create_ticket(client, caller={"phone": raw})
    assert ticket["caller"]["phone"] == "+84912345678"


async def test_landline_normalises(client):
    ticket = await create_ticket(client, caller={"phone": "024 3825 3536"})
    assert ticket["caller"]["phone"] == "+842438253536"


@pytest.mark.parametrize("raw", ["12345", "0912", "hello", "+84 000 000"])
async def test_bad_phone_is_422_naming_the_field(client, raw):
    response = await client.post("/tickets", json=ticket_body(caller={"phone": raw}))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["caller", "phone"]
    assert "0912 345 678" in errors[0]["msg"] or "not a phone number" in errors[0]["msg"]


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("phuong-cau-giay", "phuong-cau-giay"),
        ("Phường Cầu Giấy", "phuong-cau-giay"),
        ("cau giay", "phuong-cau-giay"),
        ("P. Cầu Giấy", "phuong-cau-giay"),
        ("CẦU GIẤY", "phuong-cau-giay"),
        ("phuong   cau  giay", "phuong-cau-giay"),
        # A former (pre-2025) ward wholly merged into one current ward.
        ("Phường Trúc Bạch", "phuong-ba-dinh"),
        ("truc bach", "phuong-ba-dinh"),
        # A former ward named together with its former district.
        ("Phường Trúc Bạch, Quận Ba Đình", "phuong-ba-dinh"),
        # A split former ward narrowed by the caller naming the current ward itself. (Plain
        # "Dịch Vọng, Cầu Giấy" reads Cầu Giấy as the former district: see test_area_intake.)
        ("Dịch Vọng, Phường Cầu Giấy", "phuong-cau-giay"),
        ("Trúc Bạch (cũ)", "phuong-ba-dinh"),
        ("Xã Bát Tràng", "xa-bat-trang"),
    ],
)
async def test_area_resolves_from_codes_names_and_former_names(client, given, code):
    ticket = await create_ticket(client, area=given)
    assert ticket["area"]["code"] == code


async def test_unknown_area_is_422_with_closest_names(client):
    response = await client.post("/tickets", json=ticket_body(area="Cau Giai"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["area"]
    assert "did you mean" in error["msg"]
    assert "phuong-cau-giay" in [s["code"] for s in error["suggestions"]]


async def test_ambiguous_former_district_is_422_listing_candidates(client):
    response = await client.post("/tickets", json=ticket_body(area="Quận Cầu Giấy"))
    assert response.status_code == 422
    candidates = {c["code"] for c in response.json()["errors"][0]["candidates"]}
    assert {"phuong-cau-giay", "phuong-nghia-do", "phuong-yen-hoa"} <= candidates


async def test_split_former_ward_is_422_listing_its_successors(client):
    response = await client.post("/tickets", json=ticket_body(area="Phường Dịch Vọng"))
    assert response.status_code == 422
    candidates = {c["code"] for c in response.json()["errors"][0]["candidates"]}
    assert candidates == {"phuong-cau-giay", "phuong-nghia-do"}


async def test_unknown_topic_suggests_codes(client):
    response = await client.post("/tickets", json=ticket_body(topic="moi-truong.rac-thai-x"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["topic"] and "moi-truong.rac-thai" in error["suggestions"]


async def test_description_is_nfc_and_limited(client):
    decomposed = "Đèn đường hỏng".encode().decode()
    import unicodedata

    nfd = unicodedata.normalize("NFD", decomposed)
    ticket = await create_ticket(client, description=nfd)
    assert ticket["description"] == unicodedata.normalize("NFC", decomposed)
    too_long = await client.post("/tickets", json=ticket_body(description="x" * 4001))
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["loc"] == ["description"]
    blank = await client.post("/tickets", json=ticket_body(description="   "))
    assert blank.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", 91),
        ("latitude", -91),
        ("longitude", 181),
        ("priority", "critical"),
        ("channel", "fax"),
    ],
)
async def test_out_of_range_fields_are_422(client, field, value):
    body = ticket_body(**{field: value})
    if field in ("latitude", "longitude"):
        body.setdefault("latitude", 21.03)
        body.setdefault("longitude", 105.8)
        body[field] = value
    response = await client.post("/tickets", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == [field]


async def test_unknown_field_is_refused(client):
    response = await client.post("/tickets", json=ticket_body(colour="red"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["colour"]


async def test_anonymous_caller_cannot_carry_identity(client):
    response = await client.post(
        "/tickets", json=ticket_body(caller={"anonymous": True, "name": "A"})
    )
    assert response.status_code == 422
    ok = await create_ticket(client, caller={"anonymous": True})
    assert ok["caller"] == {
        "name": None,
        "phone": None,
        "email": None,
        "anonymous": True,
        "confidential": False,
        "masked": False,
    }


async def test_received_at_in_the_past_starts_the_first_clock_then(client):
    earlier = datetime.now(UTC) - timedelta(hours=3)
    ticket = await create_ticket(client, received_at=earlier.isoformat())
    assigned = datetime.fromisoformat(ticket["current_assignment"]["assigned_at"])
    assert abs((assigned - earlier).total_seconds()) < 1
    assert datetime.fromisoformat(ticket["received_at"]) == assigned


async def test_naive_received_at_is_local_time(client):
    ticket = await create_ticket(client, received_at="2026-01-05T09:30:00")
    assert ticket["received_at"] == "2026-01-05T09:30:00+07:00"


async def test_received_at_in_the_future_is_422(client):
    future = datetime.now(UTC) + timedelta(hours=1)
    response = await client.post("/tickets", json=ticket_body(received_at=future.isoformat()))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["received_at"]


async def test_attachments_must_be_urls(client):
    ok = await create_ticket(client, attachments=["https://example.org/anh.jpg"])
    assert ok["attachments"] == ["https://example.org/anh.jpg"]
    bad = await client.post("/tickets", json=ticket_body(attachments=["not a url"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][0] == "attachments"


async def test_idempotent_retry_returns_the_same_ticket(client):
    headers = {"Idempotency-Key": "call-0001"}
    first = await client.post("/tickets", json=ticket_body(), headers=headers)
    again = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listing = (await client.get("/tickets")).json()["items"]
    assert len(listing) == 1


async def test_same_key_different_body_is_409(client):
    headers = {"Idempotency-Key": "call-0002"}
    assert (await client.post("/tickets", json=ticket_body(), headers=headers)).status_code == 201
    other = await client.post("/tickets", json=ticket_body(description="Khác"), headers=headers)
    assert other.status_code == 409
    assert "different request body" in other.json()["detail"]


async def test_failed_request_does_not_burn_the_key(client):
    headers = {"Idempotency-Key": "call-0003"}
    bad = await client.post("/tickets", json=ticket_body(area="Nowhere at all"), headers=headers)
    assert bad.status_code == 422
    good = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert good.status_code == 201


async def test_twenty_concurrent_requests_with_one_key_create_one_ticket(client):
    headers = {"Idempotency-Key": "storm-1"}
    responses = await asyncio.gather(
        *(client.post("/tickets", json=ticket_body(), headers=headers) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len((await client.get("/tickets")).json()["items"]) == 1


async def test_expired_idempotency_keys_are_forgotten(client, app):
    from app.db import transaction
    from app.tickets.idempotency_keys import purge_idempotency_keys

    headers = {"Idempotency-Key": "old-call"}
    first = await client.post("/tickets", json=ticket_body(), headers=headers)
    async with transaction(app.state.runtime.session_factory) as session:
        assert (
            await purge_idempotency_keys(session, before=datetime.now(UTC) - timedelta(hours=24))
            == 0
        )
    async with transaction(app.state.runtime.session_factory) as session:
        assert (
            await purge_idempotency_keys(session, before=datetime.now(UTC) + timedelta(seconds=1))
            == 1
        )
    again = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
