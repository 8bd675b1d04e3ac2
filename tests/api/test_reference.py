"""Areas autocomplete, topics and units."""


async def test_area_autocomplete_best_match_first_without_diacritics(client):
    items = (await client.get("/areas", params={"q": "cau giay"})).json()
    assert items[0]["code"] == "phuong-cau-giay"
    assert items[0]["former"] is False


async def test_area_autocomplete_finds_former_names(client):
    items = (await client.get("/areas", params={"q": "Trúc Bạch"})).json()
    assert items[0]["code"] == "phuong-ba-dinh"
    assert items[0]["former"] is True and "Trúc Bạch" in items[0]["matched"]


async def test_area_autocomplete_prefix(client):
    items = (await client.get("/areas", params={"q": "xa bat"})).json()
    assert "xa-bat-trang" in [i["code"] for i in items[:3]]


async def test_area_list_has_126_current_units_plus_city(client):
    items = (await client.get("/areas", params={"limit": 500})).json()
    levels = [i["level"] for i in items]
    assert (
        levels.count("ward") == 51 and levels.count("commune") == 75 and levels.count("city") == 1
    )


async def test_topics_have_codes_names_and_parents(client):
    topics = (await client.get("/topics")).json()
    codes = {t["code"] for t in topics}
    assert {"moi-truong", "moi-truong.rac-thai", "y-te.covid"} <= codes
    assert all(t["parent"] in codes for t in topics if t["parent"])


async def test_units_by_kind_and_area(client):
    ubnd = (await client.get("/units", params={"kind": "ubnd"})).json()
    assert len(ubnd) == 127  # 126 ward/commune committees + the city's
    serving = (
        await client.get("/units", params={"area": "phuong-cau-giay", "kind": "ubnd"})
    ).json()
    assert [u["code"] for u in serving] == ["ubnd-phuong-cau-giay"]
