"""Edges a fresh tester found: filters and parameters that used to be ignored, input echoed back,
bodies that are not JSON, and headers given empty. Each answer is problem+json naming the field."""

import pytest

from tests.api.test_problems import assert_problem
from tests.conftest import create_ticket

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
    mine = await client.get(
        "/tickets", params={"unit": "mine"}, headers=auth("agent.caugiay")
    )
    assert mine.status_code == 200, mine.text
    listed = await client.get("/tickets", params={"unit": "ubnd-phuong-cau-giay,tong-dai-1022"})
    assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("param", ["topic", "area"])
async def test_unknown_topic_and_area_filters_are_422(client, param):
    response = await client.get("/tickets", params={param: "zzz-khong-co"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", param]
