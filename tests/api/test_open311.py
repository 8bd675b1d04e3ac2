"""Open311 GeoReport v2: answers valid against the published schemas, XML equal to JSON, forms
as citizen apps send them, errors the spec's way, and what the public may see."""

import pytest

from tests.api.open311_support import (
    BASE,
    as_strings,
    integration_key,
    validate,
    xml_document,
)
from tests.conftest import create_ticket, runtime_changed

POTHOLE = {
    "service_code": "giao-thong.mat-duong",
    "description": "Ổ gà lớn giữa đường trước số 5 Trần Thái Tông",
    "address_string": "Số 5 Trần Thái Tông, Phường Cầu Giấy, Hà Nội",
    "attribute[kich-thuoc]": "lon",
    "attribute[lan-duong][]": ["long-duong", "le-duong"],
    "first_name": "Văn An",
    "last_name": "Nguyễn",
    "phone": "0912 345 678",
    "email": "an@example.vn",
    "account_id": "ihanoi-42",
    "device_id": "device-abc",
    "media_url": "https://example.vn/o-ga.jpg",
}
# Rubbish goes to the ward's People's Committee (rules.yaml), whose agent can resolve it.
RUBBISH = {
    "service_code": "moi-truong.rac-thai",
    "attribute[kich-thuoc]": None,
    "attribute[lan-duong][]": None,
    "attribute[loai-rac][]": ["sinh-hoat"],
}
CALLER_VALUES = (
    "Nguyễn",
    "Văn An",
    "+84912345678",
    "0912",
    "an@example.vn",
    "ihanoi-42",
    "device-abc",
)


async def both(client, path, **params):
    """The JSON and the XML answer of one GET; the XML read back must equal the JSON."""
    j = await client.get(f"{BASE}/{path}.json", params=params)
    x = await client.get(f"{BASE}/{path}.xml", params=params)
    assert j.status_code == x.status_code, (j.text, x.text)
    assert j.headers["content-type"].startswith("application/json")
    assert x.headers["content-type"] == "text/xml; charset=utf-8"
    assert xml_document(x.content) == as_strings(j.json())
    return j


async def file(client, auth, **overrides):
    key = await integration_key(client, auth)
    form = {**POTHOLE, "api_key": key, **overrides}
    form = {k: v for k, v in form.items() if v is not None}
    r = await client.post(f"{BASE}/requests.json", data=form)
    assert r.status_code == 200, r.text
    return r.json()[0]


async def test_discovery_services_and_definitions(client):
    assert (await both(client, "discovery")).json()["endpoints"][0]["formats"] == [
        "application/json",
        "text/xml",
    ]
    services = (await both(client, "services")).json()
    validate(services, "services.json")
    by_code = {s["service_code"]: s for s in services}
    pothole = by_code["giao-thong.mat-duong"]
    assert pothole["service_name"] == "Hư hỏng mặt đường, ổ gà, sụt lún"
    assert pothole["group"] == "Giao thông và đường sá"
    assert pothole["metadata"] is True and pothole["type"] == "realtime"
    assert "ổ gà" in pothole["keywords"]
    assert "giao-thong" not in by_code  # groups are not services
    assert by_code["giao-thong.un-tac"]["metadata"] is False
    definition = (await both(client, "services/giao-thong.mat-duong")).json()
    validate(definition, "service-definition.json")
    size = definition["attributes"][0]
    assert (size["code"], size["datatype"], size["required"], size["order"]) == (
        "kich-thuoc",
        "singlevaluelist",
        True,
        1,
    )
    assert {"key": "lon", "name": "Lớn (trên 1 m)"} in size["values"]
    flood = (await both(client, "services/ngap-ung.ngap-duong")).json()
    validate(flood, "service-definition.json")
    assert [a["datatype"] for a in flood["attributes"]] == ["number", "datetime"]


async def test_post_form_files_a_routed_public_ticket(client, auth):
    made = await file(client, auth)
    assert made["account_id"] == "ihanoi-42"
    assert made["service_request_id"].startswith("HN-")
    ticket = (await client.get(f"/tickets/{made['service_request_id']}")).json()
    assert ticket["current_assignment"]["unit"]["name"] in made["service_notice"]
    assert ticket["channel"] == "open311" and ticket["public"] is True
    assert ticket["area"]["code"] == "phuong-cau-giay"
    assert ticket["caller"]["name"] == "Nguyễn Văn An"
    one = (await both(client, f"requests/{made['service_request_id']}", extensions="true")).json()
    request = one[0]
    assert request["status"] == "open"
    assert request["agency_responsible"] == ticket["current_assignment"]["unit"]["name"]
    assert request["expected_datetime"] is not None
    assert request["media_url"] == "https://example.vn/o-ga.jpg"
    assert request["extended_attributes"]["status"] == "open"
    assert request["extended_attributes"]["attributes"] == [
        {"code": "kich-thuoc", "values": ["lon"]},
        {"code": "lan-duong", "values": ["long-duong", "le-duong"]},
    ]
    listed = (await both(client, "requests")).json()
    validate(listed, "requests.json")
    text = str(listed) + str(one)
    for value in CALLER_VALUES:
        assert value not in text


async def test_coordinates_only_go_to_triage_without_an_area(client, auth):
    made = await file(client, auth, address_string="", lat="21.0362", long="105.7906")
    ticket = (await client.get(f"/tickets/{made['service_request_id']}")).json()
    assert ticket["area"] is None
    assert (ticket["latitude"], ticket["longitude"]) == (21.0362, 105.7906)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"attribute[kich-thuoc]": ""}, 400, "attribute[kich-thuoc]: required"),
        ({"attribute[kich-thuoc]": "khong-lo"}, 400, "not one of"),
        ({"attribute[mau-sac]": "do"}, 400, "no attribute 'mau-sac'"),
        ({"service_code": "giao-thong"}, 400, "service_code"),
        ({"address_string": "", "lat": "21.03"}, 400, "lat and long"),
        ({"address_string": "", "lat": "bắc", "long": "105.8"}, 400, "lat: 'bắc'"),
        ({"address_string": "", "lat": "95", "long": "105.8"}, 400, "lat:"),
        ({"address_string": ""}, 400, "location"),
        ({"description": "x" * 4001}, 400, "description"),
        ({"phone": "12"}, 400, "phone"),
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "hk_nope_nope"}, 403, "api_key"),
        ({"jurisdiction_id": "ho-chi-minh"}, 404, "jurisdiction_id"),
    ],
)
async def test_post_errors_the_spec_way(client, auth, change, status, words):
    key = await integration_key(client, auth)
    for fmt in ("json", "xml"):
        form = {**POTHOLE, "api_key": key, **change}
        r = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert r.status_code == status, r.text
        errors = r.json() if fmt == "json" else xml_document(r.content)
        assert [e["code"] for e in errors] == [status if fmt == "json" else str(status)]
        assert words in errors[0]["description"]
    assert (await client.get("/tickets")).json()["items"] == []  # nothing half-written


async def test_only_integration_keys_file(client, auth):
    operator_key = await integration_key(client, auth, role="operator")
    r = await client.post(f"{BASE}/requests.json", data={**POTHOLE, "api_key": operator_key})
    assert r.status_code == 403
    # ...and an integration key can do nothing else.
    key = await integration_key(client, auth)
    listing = await client.get("/tickets", headers={"Authorization": "", "X-API-Key": key})
    assert listing.status_code == 403


async def test_confidential_never_private_without_description(client, auth):
    secret = await create_ticket(client, caller={"name": "Bà Hoa", "confidential": True})
    phoned = await create_ticket(client)
    made = await file(client, auth)
    listed = (await both(client, "requests")).json()
    assert [r["service_request_id"] for r in listed] == [made["service_request_id"]]
    missing = await client.get(f"{BASE}/requests/{secret['reference']}.json")
    assert missing.status_code == 404
    # A phoned-in ticket: its status by reference, without its description.
    found = (await both(client, f"requests/{phoned['reference']}")).json()[0]
    assert found["description"] is None and found["address"] is None
    assert found["status"] == "open"
    # An operator makes it public: it is listed, with its description.
    patched = await client.patch(f"/tickets/{phoned['id']}", json={"public": True})
    assert patched.status_code == 200 and patched.json()["public"] is True
    listed = (await both(client, "requests")).json()
    assert {r["service_request_id"] for r in listed} == {
        made["service_request_id"],
        phoned["reference"],
    }


async def test_lists_filter_page_and_cap_the_period(client, auth):
    first = await file(client, auth)
    second = await file(client, auth, **RUBBISH)
    ids = f"{first['service_request_id']},{second['service_request_id']},HN-1999-000001"
    assert len((await both(client, "requests", service_request_id=ids)).json()) == 2
    only = (await both(client, "requests", service_code="moi-truong.rac-thai")).json()
    assert [r["service_request_id"] for r in only] == [second["service_request_id"]]
    assert (await both(client, "requests", status="closed")).json() == []
    page = (await both(client, "requests", page_size="1", page="2")).json()
    assert [r["service_request_id"] for r in page] == [first["service_request_id"]]
    wide = await client.get(
        f"{BASE}/requests.json", params={"start_date": "2026-01-01", "end_date": "2026-06-01"}
    )
    assert wide.status_code == 400 and "90 days" in wide.json()[0]["description"]
    old = await client.get(f"{BASE}/requests.json", params={"updated_before": "2020-01-01T00:00Z"})
    assert old.json() == []


async def test_resolution_only_to_the_phone_used(client, auth):
    made = await file(client, auth, **RUBBISH)
    ref = made["service_request_id"]
    ticket = (await client.get(f"/tickets/{ref}")).json()
    agent = auth("agent.caugiay")
    r = await client.post(
        f"/tickets/{ticket['id']}/resolve", json={"resolution": "Đã vá ổ gà"}, headers=agent
    )
    assert r.status_code == 200, r.text
    anyone = (await client.get(f"{BASE}/requests/{ref}.json")).json()[0]
    assert anyone["status"] == "closed" and "Đã vá" not in anyone["status_notes"]
    owner = await client.get(f"{BASE}/requests/{ref}.json", params={"phone": "+84 912 345 678"})
    assert "Đã vá ổ gà" in owner.json()[0]["status_notes"]
    wrong = await client.get(f"{BASE}/requests/{ref}.json", params={"phone": "0987654321"})
    unknown = await client.get(
        f"{BASE}/requests/HN-2026-999999.json", params={"phone": "0912345678"}
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    token = (await both(client, f"tokens/{ref}")).json()
    assert token == [{"service_request_id": ref, "token": ref}]


async def test_lookups_are_rate_limited_per_client(app, client, auth):
    made = await file(client, auth)
    original = app.state.runtime.settings
    with runtime_changed(
        app, settings=original.model_copy(update={"open311_lookups_per_minute": 3})
    ):
        codes = [
            (await client.get(f"{BASE}/requests/{made['service_request_id']}.json")).status_code
            for _ in range(4)
        ]
    assert codes == [200, 200, 200, 429]


async def test_service_request_updates_have_stable_ids(client, auth):
    made = await file(client, auth, **RUBBISH)
    ticket = (await client.get(f"/tickets/{made['service_request_id']}")).json()
    await client.post(
        f"/tickets/{ticket['id']}/acknowledge", json={}, headers=auth("agent.caugiay")
    )
    await client.post(f"/tickets/{ticket['id']}/notes", json={"text": "nội bộ"})
    first = (await both(client, "servicerequestupdates")).json()
    assert [u["description"] for u in first] == [
        "Đang phân loại",
        "Đã chuyển đơn vị xử lý",
        "Đơn vị đã tiếp nhận",
    ]
    assert all(u["service_request_id"] == made["service_request_id"] for u in first)
    again = (await both(client, "servicerequestupdates")).json()
    assert [u["update_id"] for u in again] == [u["update_id"] for u in first]


async def test_unknown_service_and_format(client):
    r = await client.get(f"{BASE}/services/khong-co.xml")
    assert r.status_code == 404
    assert xml_document(r.content)[0]["code"] == "404"
    assert (await client.get(f"{BASE}/services.yaml")).status_code == 404
    assert (
        await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "x"})
    ).status_code == 404
    assert (
        await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "ha-noi"})
    ).status_code == 200


async def test_an_address_fitting_several_areas_goes_to_triage(client, auth):
    # A former ward the 2025 reform split over two current wards: nobody is on the line to
    # ask, so the request waits in triage with its candidates (issue #10's unattended path).
    made = await file(client, auth, **RUBBISH, address_string="Dịch Vọng, Cầu Giấy")
    ticket = (await client.get(f"/tickets/{made['service_request_id']}")).json()
    assert ticket["area"] is None
    assert ticket["area_resolution"]["outcome"] == "triage"
    assert ticket["current_assignment"]["unit"]["code"] == "tong-dai-1022"
