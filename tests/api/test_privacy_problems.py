"""Clients' mistakes on the privacy routes are problem+json naming the field."""

import pytest


@pytest.mark.parametrize(
    ("path", "body", "field", "text"),
    [
        ("/audit/access/search", {"phone": "12"}, "phone", "not a"),
        ("/audit/access/search", {}, "phone", "required"),
        ("/audit/access/search", {"phone": " "}, "phone", "phone is required"),
        ("/callers/export", {"phone": "abc", "request_ref": "R"}, "phone", "not a"),
        ("/callers/export", {"phone": "0912345678"}, "request_ref", "required"),
        ("/callers/erase", {"email": "not-mail", "request_ref": "R", "ground": "abc"}, "email", ""),
        ("/callers/erase", {"phone": "0912345678", "request_ref": "R", "ground": ""}, "ground", ""),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(client, auth, path, body, field, text):
    response = await client.post(path, json=body, headers=auth("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(field in e["loc"] or field in e["msg"] for e in problem["errors"]), problem
    assert text in response.text


async def test_unknown_ticket_is_404_and_bad_query_422(client, auth):
    sup = auth("supervisor")
    missing = await client.post("/tickets/999999/caller/reveal", json={"reason": "gọi lại"})
    assert missing.status_code == 404
    assert (await client.get("/tickets/999999/access", headers=sup)).status_code == 404
    bad = await client.get("/audit/access", params={"ticket": "x", "from": "soon"}, headers=sup)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
