"""Ambiguous areas at intake (issue #10): ask only when the answer changes the decision."""

import pytest

from tests.conftest import create_ticket, ticket_body

SPLIT = "Dịch Vọng, Cầu Giấy"  # a former ward the 2025 reform split over two current wards


async def test_split_former_ward_with_its_former_district_is_a_question(client):
    response = await client.post("/tickets", json=ticket_body(area="Thụy Khuê, Tây Hồ"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["area"]
    assert [c["code"] for c in error["candidates"]] == ["phuong-ba-dinh", "phuong-tay-ho"]
    for candidate in error["candidates"]:
        assert candidate["name"].startswith("Phường ")
        assert candidate["former_names"] == ["Phường Thụy Khuê (cũ, Quận Tây Hồ)"]
    assert error["read_as"][1] == "Quận Tây Hồ (cũ)"


async def test_the_chosen_code_comes_back_and_files_the_ticket(client):
    asked = await client.post("/tickets", json=ticket_body(area=SPLIT))
    assert asked.status_code == 422
    codes = [c["code"] for c in asked.json()["errors"][0]["candidates"]]
    assert codes == ["phuong-cau-giay", "phuong-nghia-do"]
    ticket = await create_ticket(client, area=codes[1])
    assert ticket["area"]["code"] == "phuong-nghia-do"
    assert ticket["area_resolution"]["how"] == "code"
    assert ticket["current_assignment"]["unit"]["code"] == "ubnd-phuong-nghia-do"


async def test_candidates_routing_alike_proceed_and_keep_the_candidates(client):
    ticket = await create_ticket(client, area=SPLIT, topic="nuoc-sach.mat-nuoc")
    assert ticket["current_assignment"]["unit"]["code"] == "nuoc-sach-ha-noi"
    assert ticket["area"] is None
    resolution = ticket["area_resolution"]
    assert resolution["outcome"] == "same_route" and resolution["how"] == "parts"
    assert [c["code"] for c in resolution["candidates"]] == ["phuong-cau-giay", "phuong-nghia-do"]
    assert "confirm-area" in ticket["allowed_actions"]
    # The unit (or an operator) confirms the area later: one of the candidates only.
    wrong = await client.post(
        f"/tickets/{ticket['id']}/confirm-area", json={"area": "phuong-ba-dinh"}
    )
    assert wrong.status_code == 422 and "phuong-cau-giay" in wrong.json()["errors"][0]["msg"]
    confirmed = await client.post(
        f"/tickets/{ticket['id']}/confirm-area", json={"area": "Phường Nghĩa Đô"}
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["area"]["code"] == "phuong-nghia-do"
    assert body["area_resolution"]["outcome"] == "confirmed"
    assert body["current_assignment"]["unit"]["code"] == "nuoc-sach-ha-noi"
    assert "confirm-area" not in body["allowed_actions"]
    again = await client.post(
        f"/tickets/{ticket['id']}/confirm-area", json={"area": "phuong-nghia-do"}
    )
    assert again.status_code == 422


async def test_units_informed_by_area_are_every_candidates(client):
    ticket = await create_ticket(client, area=SPLIT, topic="ngap-ung.ngap-duong")
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assigned = next(e for e in events if e["kind"] == "assigned")
    assert set(assigned["details"]["co_handlers"]) == {
        "ubnd-phuong-cau-giay",
        "ubnd-phuong-nghia-do",
    }


async def test_unattended_channel_sends_an_ambiguous_area_to_triage(client):
    ticket = await create_ticket(client, area=SPLIT, channel="open311")
    assert ticket["current_assignment"]["unit"]["code"] == "tong-dai-1022"
    assert ticket["area"] is None
    assert ticket["area_resolution"]["outcome"] == "triage"
    # Triage settles the area; the ticket goes where that area's rules send it.
    confirmed = await client.post(
        f"/tickets/{ticket['id']}/confirm-area", json={"area": "phuong-cau-giay"}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["current_assignment"]["unit"]["code"] == "ubnd-phuong-cau-giay"


async def test_every_part_must_be_accounted_for(client):
    response = await client.post("/tickets", json=ticket_body(area="Xyz, Cau Giay"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["part"] == "Xyz" and "'Xyz'" in error["msg"]


async def test_parts_that_disagree_are_a_422_naming_them(client):
    response = await client.post("/tickets", json=ticket_body(area="Trúc Bạch, Cầu Giấy"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["parts"] == ["Trúc Bạch", "Cầu Giấy"]


async def test_the_ticket_says_how_its_area_was_read(client):
    ticket = await create_ticket(client, area="Hàng Bạc, Hoàn Kiếm")
    assert ticket["area"]["code"] == "phuong-hoan-kiem"
    resolution = ticket["area_resolution"]
    assert resolution["how"] == "parts" and resolution["outcome"] == "resolved"
    assert resolution["read_as"] == ["Phường Hàng Bạc (cũ, Quận Hoàn Kiếm)", "Quận Hoàn Kiếm (cũ)"]
    read = (await client.get(f"/tickets/{ticket['id']}")).json()
    assert read["area_resolution"] == resolution
    former = await create_ticket(client, area="Trúc Bạch (cũ)")
    assert former["area_resolution"]["how"] == "former_name"


async def test_correcting_to_an_ambiguous_area_asks_too(client):
    ticket = await create_ticket(client)
    response = await client.patch(f"/tickets/{ticket['id']}", json={"area": SPLIT})
    assert response.status_code == 422 and len(response.json()["errors"][0]["candidates"]) == 2
    fixed = await client.patch(f"/tickets/{ticket['id']}", json={"area": "Trúc Bạch (cũ)"})
    assert fixed.status_code == 200
    assert fixed.json()["current_assignment"]["unit"]["code"] == "ubnd-phuong-ba-dinh"


@pytest.mark.parametrize("area", [SPLIT, "Thụy Khuê, Tây Hồ"])
async def test_explain_asks_which_area(client, area):
    body = {"channel": "phone", "description": "x", "topic": "moi-truong.rac-thai", "area": area}
    response = await client.post("/routing/explain", json=body)
    assert response.status_code == 422
    assert len(response.json()["errors"][0]["candidates"]) == 2


async def test_area_filter_with_an_ambiguous_text_covers_every_candidate(client):
    cau_giay = await create_ticket(client, area="phuong-cau-giay")
    nghia_do = await create_ticket(client, area="phuong-nghia-do")
    found = (await client.get("/tickets", params={"area": SPLIT})).json()["items"]
    assert {cau_giay["id"], nghia_do["id"]} <= {t["id"] for t in found}
    bad = await client.get("/tickets", params={"area": "Xyz, Cau Giay"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["part"] == "Xyz"


async def test_without_an_area_the_address_parts_that_name_areas_give_it(client):
    street = "Ngõ 25 Trần Thái Tông"
    ticket = await create_ticket(client, area=None, address=f"{street}, Phường Cầu Giấy")
    assert ticket["area"]["code"] == "phuong-cau-giay"
    assert ticket["area_resolution"]["field"] == "address"
    plain = await create_ticket(client, area=None, address=street)
    assert plain["area"] is None and plain["area_resolution"] is None
    # The same no-guess rule: a split former ward in the address is a question...
    split = await client.post(
        "/tickets", json=ticket_body(area=None, address=f"{street}, Dịch Vọng Hậu, Cầu Giấy")
    )
    assert split.status_code == 422
    error = split.json()["errors"][0]
    assert error["loc"] == ["address"] and len(error["candidates"]) == 2
    # ...and parts that disagree are named.
    bad = await client.post(
        "/tickets", json=ticket_body(area=None, address="Ngõ 1, Trúc Bạch, Cầu Giấy")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["parts"] == ["Trúc Bạch", "Cầu Giấy"]
    # "Ba Đình" after a street is the current ward or the former district: not guessed.
    old_style = await client.post(
        "/tickets", json=ticket_body(area=None, address="12 Kim Mã, Ba Đình, Hà Nội")
    )
    assert old_style.status_code == 422
    assert len(old_style.json()["errors"][0]["candidates"]) > 2
