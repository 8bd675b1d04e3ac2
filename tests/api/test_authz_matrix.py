"""Every route × every kind of caller → the expected status.

A new route must be added to MATRIX: `test_every_route_is_in_the_matrix` fails otherwise.
"""

import uuid

import pytest

from tests.conftest import create_ticket

ANON, OPER, OWN, OTHER, SUP, ADMIN, KEY = (
    "anonymous",
    "operator",
    "agent_own",
    "agent_other",
    "supervisor",
    "admin",
    "apikey",
)
CALLERS = [ANON, OPER, OWN, OTHER, SUP, ADMIN, KEY]


def expect(ok, allowed=(), hidden=(), others=403, public=False):
    """Status per caller: `allowed` get `ok`, `hidden` get 404, the rest `others`; anon 401."""
    table = {c: (ok if c in allowed else 404 if c in hidden else others) for c in CALLERS}
    table[ANON] = ok if public else 401
    return table


EVERYONE = (OPER, OWN, OTHER, SUP, ADMIN, KEY)
# Read a ticket: all but an agent of another unit, for whom it does not exist.
READ = expect(200, allowed=(OPER, OWN, SUP, ADMIN, KEY), hidden=(OTHER,))
OPERATORS = (OPER, KEY)  # the matrix's API key has the operator role

# Actions: status the ticket must be in first, and who may act.
ACTIONS = {
    "acknowledge": ("assigned", (OWN,)),
    "start": ("assigned", (OWN,)),
    "request-info": ("acknowledged", (OWN,)),
    "info-received": ("waiting_citizen", (OWN,)),
    "resolve": ("assigned", (OWN,)),
    "reject": ("assigned", (OWN,)),
    "transfer": ("assigned", (OPER, SUP, KEY)),
    "reroute": ("assigned", (OPER, SUP, KEY)),
    "close": ("resolved", (OPER, KEY)),
    "reopen": ("resolved", (OPER, SUP, KEY)),
    "cancel": ("assigned", (OPER, KEY)),
    "duplicate": ("assigned", (OPER, KEY)),
    "notes": ("assigned", (OPER, OWN, SUP, KEY)),
    # Citizen follow-up (issue #14): an operator records the callback's answer.
    "feedback": ("resolved", (OPER, KEY)),
    # The callback queue (issue #16): an operator records that the caller was called back.
    "caller-informed": ("resolved", (OPER, KEY)),
    # On a ticket whose area is still two candidate wards, routed city-wide (the water
    # company): the Cầu Giấy agent is not involved, so the ticket does not exist for them.
    "confirm-area": ("assigned", (OPER, KEY)),
}
AGENT_PERMITTED = {
    "acknowledge",
    "start",
    "request-info",
    "info-received",
    "resolve",
    "reject",
    "notes",
    "confirm-area",
}
BODIES = {
    "resolve": {"resolution": "Đã xử lý"},
    "reject": {"reason": "Không thuộc thẩm quyền"},
    "transfer": {"unit": "urenco"},
    "reopen": {"reason": "Chưa xử lý xong"},
    "notes": {"text": "Ghi chú"},
    "feedback": {"fixed": "yes", "rating": 4},
    "confirm-area": {"area": "phuong-cau-giay"},
    "reveal": {"reason": "Gọi lại cho người dân"},
    "legal-hold": {"reason": "Hồ sơ tố cáo đang xác minh"},
    "lift": {"reason": "Đã xác minh xong"},
}
SUBJECT = {"phone": "0912 345 678", "request_ref": "YC-2026-001"}
SETUP = {
    "assigned": [],
    "acknowledged": [("acknowledge", None)],
    "waiting_citizen": [("acknowledge", None), ("request-info", None)],
    "resolved": [("resolve", {"resolution": "Xong"})],
}

MATRIX = {
    ("POST", "/api/v1/tickets"): expect(201, allowed=OPERATORS),
    ("GET", "/api/v1/tickets"): expect(200, allowed=EVERYONE),
    ("GET", "/api/v1/tickets/{ticket_id}"): READ,
    ("PATCH", "/api/v1/tickets/{ticket_id}"): expect(200, allowed=OPERATORS),
    ("GET", "/api/v1/tickets/{ticket_id}/events"): READ,
    ("GET", "/api/v1/areas"): expect(200, allowed=EVERYONE),
    ("GET", "/api/v1/topics"): expect(200, allowed=EVERYONE),
    ("GET", "/api/v1/units"): expect(200, allowed=EVERYONE),
    ("POST", "/api/v1/routing/explain"): expect(200, allowed=(OPER, SUP, ADMIN, KEY)),
    ("GET", "/api/v1/routing/rules"): expect(200, allowed=EVERYONE),
    ("POST", "/api/v1/admin/rules/reload"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/routing/replay"): expect(200, allowed=(SUP, ADMIN)),
    ("POST", "/api/v1/auth/token"): expect(200, allowed=EVERYONE, public=True),
    ("POST", "/api/v1/auth/refresh"): expect(401, allowed=EVERYONE, public=True),
    ("GET", "/api/v1/auth/me"): expect(200, allowed=EVERYONE),
    ("GET", "/api/v1/admin/users"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/admin/users"): expect(201, allowed=(ADMIN,)),
    ("POST", "/api/v1/admin/users/{username}/disable"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/admin/users/{username}/enable"): expect(200, allowed=(ADMIN,)),
    ("GET", "/api/v1/admin/api-keys"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/admin/api-keys"): expect(201, allowed=(ADMIN,)),
    ("POST", "/api/v1/admin/api-keys/{key_id}/revoke"): expect(200, allowed=(ADMIN,)),
    # Reports: supervisors and admins see every unit, agents their own units' rows.
    ("GET", "/api/v1/reports/sla"): expect(200, allowed=(OWN, OTHER, SUP, ADMIN)),
    ("GET", "/api/v1/reports/sla/breaches"): expect(200, allowed=(OWN, OTHER, SUP, ADMIN)),
    ("GET", "/api/v1/reports/backlog"): expect(200, allowed=(OWN, OTHER, SUP, ADMIN)),
    ("GET", "/api/v1/reports/volume"): expect(200, allowed=(OWN, OTHER, SUP, ADMIN)),
    ("GET", "/api/v1/reports/satisfaction"): expect(200, allowed=(OWN, OTHER, SUP, ADMIN)),
    # Personal data (issue #19).
    ("POST", "/api/v1/tickets/{ticket_id}/caller/reveal"): expect(200, allowed=(OPER, SUP, KEY)),
    ("POST", "/api/v1/tickets/{ticket_id}/legal-hold"): expect(200, allowed=(SUP,)),
    ("POST", "/api/v1/tickets/{ticket_id}/legal-hold/lift"): expect(200, allowed=(SUP,)),
    ("GET", "/api/v1/tickets/{ticket_id}/access"): expect(200, allowed=(SUP, ADMIN)),
    ("GET", "/api/v1/audit/access"): expect(200, allowed=(SUP, ADMIN)),
    ("POST", "/api/v1/audit/access/search"): expect(200, allowed=(SUP, ADMIN)),
    ("POST", "/api/v1/callers/export"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/callers/erase"): expect(200, allowed=(ADMIN,)),
    ("GET", "/api/v1/callers/requests"): expect(200, allowed=(ADMIN,)),
    # Search (issue #15): caller history and duplicate suggestions, operators and supervisors.
    ("POST", "/api/v1/callers/lookup"): expect(200, allowed=(OPER, SUP, KEY)),
    ("POST", "/api/v1/tickets/similar"): expect(200, allowed=(OPER, SUP, KEY)),
    ("GET", "/api/v1/tickets/{ticket_id}/similar"): expect(200, allowed=(OPER, SUP, KEY)),
    # Webhooks: admins manage them; supervisors see them and their delivery logs.
    ("POST", "/api/v1/webhooks"): expect(201, allowed=(ADMIN,)),
    ("GET", "/api/v1/webhooks"): expect(200, allowed=(SUP, ADMIN)),
    ("GET", "/api/v1/webhooks/{webhook_id}"): expect(200, allowed=(SUP, ADMIN)),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): expect(200, allowed=(ADMIN,)),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): expect(204, allowed=(ADMIN,)),
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): expect(200, allowed=(ADMIN,)),
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): expect(202, allowed=(ADMIN,)),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): expect(200, allowed=(SUP, ADMIN)),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{message_id}/retry"): expect(
        202, allowed=(ADMIN,)
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/replay"): expect(202, allowed=(ADMIN,)),
    ("GET", "/healthz"): expect(200, allowed=EVERYONE, public=True),
    ("GET", "/readyz"): expect(200, allowed=EVERYONE, public=True),
}
for _action, (_status, _who) in ACTIONS.items():
    _hidden = (OWN, OTHER) if _action == "confirm-area" else (OTHER,)
    MATRIX[("POST", f"/api/v1/tickets/{{ticket_id}}/{_action}")] = expect(
        200, allowed=_who, hidden=_hidden if _action in AGENT_PERMITTED else ()
    )


def api_routes(app):
    """Every route the app serves, from its OpenAPI document (routers are not flattened)."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_is_in_the_matrix(app):
    missing = api_routes(app) - set(MATRIX)
    assert not missing, (
        f"add these routes to MATRIX with their expected statuses: {sorted(missing)}"
    )
    stale = set(MATRIX) - api_routes(app)
    assert not stale, f"MATRIX names routes that no longer exist: {sorted(stale)}"


@pytest.fixture
async def callers(client, auth):
    """Headers per kind of caller; the ticket's unit is Cầu Giấy's People's Committee."""
    key = await client.post(
        "/admin/api-keys", json={"name": "tong-dai-pbx", "role": "operator"}, headers=auth("admin")
    )
    assert key.status_code == 201, key.text
    return {
        ANON: {"Authorization": ""},
        OPER: auth("operator"),
        OWN: auth("agent.caugiay"),
        OTHER: auth("agent.badinh"),
        SUP: auth("supervisor"),
        ADMIN: auth("admin"),
        KEY: {"Authorization": "", "X-API-Key": key.json()["key"]},
    }


async def _ticket(client, auth, status, action=None):
    if action == "confirm-area":
        return await create_ticket(client, area="Dịch Vọng, Cầu Giấy", topic="nuoc-sach.mat-nuoc")
    ticket = await create_ticket(client)
    for action, body in SETUP[status]:
        r = await client.post(
            f"/tickets/{ticket['id']}/{action}", json=body, headers=auth("agent.caugiay")
        )
        assert r.status_code == 200, r.text
    return ticket


async def _request(client, auth, method, path):
    """Build a valid request for the route, so that only permissions decide the outcome."""
    body, params, form = None, None, None
    if "{ticket_id}" in path:
        action = path.rsplit("/", 1)[-1]
        status = ACTIONS[action][0] if action in ACTIONS else "assigned"
        ticket = await _ticket(client, auth, status, action)
        path = path.replace("{ticket_id}", str(ticket["id"]))
        if action == "lift":
            held = await client.post(
                f"/tickets/{ticket['id']}/legal-hold",
                json=BODIES["legal-hold"],
                headers=auth("supervisor"),
            )
            assert held.status_code == 200, held.text
        if action == "duplicate":
            body = {"duplicate_of": (await create_ticket(client))["reference"]}
        elif action in BODIES:
            body = BODIES[action]
        elif method == "PATCH":
            body = {"priority": "high"}
    elif path in ("/api/v1/tickets", "/api/v1/routing/explain") and method == "POST":
        body = {"channel": "phone", "description": "Đèn đường hỏng", "area": "Ba Đình"}
    elif path == "/api/v1/audit/access/search":
        body = {"phone": SUBJECT["phone"]}
    elif path in ("/api/v1/callers/lookup", "/api/v1/tickets/similar"):
        body = {"phone": SUBJECT["phone"]} if "lookup" in path else {"caller_phone": "0912345678"}
    elif path == "/api/v1/callers/export":
        body = SUBJECT
    elif path == "/api/v1/callers/erase":
        body = {**SUBJECT, "ground": "Chủ thể dữ liệu yêu cầu xoá dữ liệu của mình"}
    elif path.endswith("/routing/replay"):
        body = {"files": {}}
    elif path.endswith("/auth/token"):
        form = {"username": "operator", "password": "operator1022"}
    elif path.endswith("/auth/refresh"):
        body = {"refresh_token": "not-a-token"}
    elif path.endswith("/admin/users") and method == "POST":
        body = {
            "username": f"u{uuid.uuid4().hex[:8]}",
            "password": "password123",
            "role": "operator",
        }
    elif "{username}" in path:
        name = f"u{uuid.uuid4().hex[:8]}"
        made = await client.post(
            "/admin/users",
            json={"username": name, "password": "password123", "role": "operator"},
            headers=auth("admin"),
        )
        assert made.status_code == 201
        path = path.replace("{username}", name)
    elif path == "/api/v1/webhooks" and method == "POST":
        body = {"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]}
    elif "{webhook_id}" in path:
        made = await client.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=auth("admin")
        )
        path = path.replace("{webhook_id}", str(made.json()["id"]))
        if "{message_id}" in path:
            hook = path.split("/deliveries")[0].removeprefix("/api/v1")
            queued = await client.post(f"{hook}/test", headers=auth("admin"))
            assert queued.status_code == 202, queued.text
            path = path.replace("{message_id}", queued.json()["message_id"])
        if method == "PATCH":
            body = {"description": "Hệ thống của phường"}
        if path.endswith("/replay"):
            params = {"since": "2026-01-01T00:00:00+07:00"}
    elif path.endswith("/admin/api-keys") and method == "POST":
        body = {"name": "app", "role": "operator"}
    elif "{key_id}" in path:
        made = await client.post(
            "/admin/api-keys", json={"name": "x", "role": "operator"}, headers=auth("admin")
        )
        path = path.replace("{key_id}", str(made.json()["id"]))
    return path, body, params, form


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_route_answers_each_caller_as_expected(client, auth, callers, method, path, caller):
    url, body, params, form = await _request(client, auth, method, path)
    url = url.removeprefix("/api/v1") if url.startswith("/api/v1") else f"http://test{url}"
    response = await client.request(
        method, url, json=body, params=params, data=form, headers=callers[caller]
    )
    assert response.status_code == MATRIX[(method, path)][caller], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert "www-authenticate" in response.headers
