"""The console under hostile input: text that cannot be stored and files where text belongs are
refused as a page (never a 500 on PostgreSQL, never stored), and a signed-in form needs the token
bound to the session itself, not the one bound to the sign-in form's pre-session cookie."""

import re
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import create_ticket
from tests.console.conftest import csrf_of


def intake_data(form: str, **changes: str) -> dict[str, str]:
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    return {
        "csrf_token": csrf_of(form),
        "idempotency_key": key,
        "phone": "0912 345 678",
        "name": "Trần Thị Bình",
        "channel": "phone",
        "area": "phuong-cau-giay",
        "topic": "moi-truong.rac-thai",
        "priority": "normal",
        "description": "Rác ùn ứ đầu ngõ",
        "address": "Ngõ 5",
        **changes,
    }


@pytest.mark.parametrize("field", ["description", "name", "address", "idempotency_key"])
async def test_intake_refuses_a_nul_character_as_a_page(client, browser, field):
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    r = await operator.post("/console/intake", data=intake_data(form, **{field: "Ngõ\x00 5"}))
    assert r.status_code == 422, r.text
    assert field in r.text
    assert (await client.get("/tickets")).json()["items"] == []


@pytest.mark.parametrize("text", ["Ngõ\x1b[31m 5", "Ngõ\x08 5", "Ngõ\x7f\x0c 5"])
async def test_intake_refuses_a_control_character_as_a_page(client, browser, text):
    """As /api/v1 and Open311 do (app.api.checked_route.text_problem): a C0 control character
    other than tab, LF and CR is never stored."""
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    r = await operator.post("/console/intake", data=intake_data(form, description=text))
    assert r.status_code == 422, r.text
    assert "description" in r.text
    assert (await client.get("/tickets")).json()["items"] == []


async def test_intake_form_with_its_media_type_in_capitals_is_checked(client, browser):
    """Media types are case-insensitive: the form parser reads this body, so the check must."""
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    body = urlencode(intake_data(form, description="Rác\x00 ùn ứ"))
    r = await operator.post(
        "/console/intake",
        content=body,
        headers={"content-type": "Application/X-WWW-Form-Urlencoded"},
    )
    assert r.status_code == 422, r.text
    assert "description" in r.text
    assert (await client.get("/tickets")).json()["items"] == []


async def test_intake_refuses_a_file_where_text_belongs(client, browser):
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    data = intake_data(form)
    del data["address"]
    r = await operator.post(
        "/console/intake", data=data, files={"address": ("a.txt", b"Ngo 5", "text/plain")}
    )
    assert r.status_code == 422, r.text
    assert "address" in r.text
    assert (await client.get("/tickets")).json()["items"] == []


async def test_reveal_reason_search_and_sign_in_refuse_a_nul(app, client, browser, auth):
    ticket = await create_ticket(client, caller={"name": "Bà Hoa", "confidential": True})
    supervisor = await browser("supervisor")
    page = (await supervisor.get(f"/console/tickets/{ticket['id']}")).text
    r = await supervisor.post(
        f"/console/tickets/{ticket['id']}/caller/reveal",
        data={"csrf_token": csrf_of(page), "reason": "Gọi lại\x00"},
    )
    assert r.status_code == 422 and "Bà Hoa" not in r.text
    log = await client.get(f"/tickets/{ticket['id']}/access", headers=auth("supervisor"))
    assert log.status_code == 200, log.text
    assert "reveal" not in log.text
    assert (await supervisor.get("/console/search", params={"q": "rác\x00"})).status_code == 422
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        form = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={"username": "oper\x00ator", "password": "x", "csrf_token": csrf_of(form.text)},
        )
        assert r.status_code == 422


async def test_a_signed_in_form_refuses_the_sign_in_forms_token(app, client, browser):
    """The pre-session token is a double-submit cookie: a cookie planted by a sibling site over
    plain HTTP with a token the attacker fetched would pass. Signed-in forms take only the token
    bound to the session cookie."""
    ticket = await create_ticket(client, area="phuong-cau-giay")
    agent = await browser("agent.caugiay")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as attacker:
        login = await attacker.get("/console/login")
        seed = attacker.cookies.get("hotline_console_pre")
        token = csrf_of(login.text)
    assert seed
    r = await agent.post(
        f"/console/tickets/{ticket['id']}/acknowledge",
        data={"csrf_token": token},
        headers={
            "cookie": f"hotline_console={agent.cookies['hotline_console']}; "
            f"hotline_console_pre={seed}"
        },
    )
    assert r.status_code == 403
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "assigned"
