"""`q`: every word in any order, references in part, callers' names and phones, relevance."""

from datetime import datetime

import pytest

from app.search import repository as search_repo
from tests.conftest import create_ticket


async def ids(client, **params):
    response = await client.get("/tickets", params=params)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["items"]]


async def test_words_match_in_any_order_as_word_prefixes(client):
    hit = await create_ticket(client, description="Rác thải ùn ứ đầu ngõ", address="Phố Huế")
    await create_ticket(client, description="Đèn đường không sáng", address="Phố Huế")
    assert await ids(client, q="thải rác") == [hit["id"]]
    assert await ids(client, q="HUE ra") == [hit["id"]]
    # Every word must match: one word absent from the ticket excludes it.
    assert await ids(client, q="rác đèn") == []
    # A word matches the beginning of a word, not its middle.
    assert await ids(client, q="hai") == []


async def test_references_in_part_find_the_ticket(client):
    target = None
    for _ in range(3):
        target = await create_ticket(client)
    prefix, year, number = target["reference"].split("-")
    for q in (f"{prefix}-{year}-{int(number)}", f"{year}-{number}", number, target["reference"]):
        assert target["id"] in await ids(client, q=q), q
    assert await ids(client, q=f"{prefix}-{int(year) - 1}-{number}") == []


async def test_caller_name_and_phone_are_searched_but_never_a_confidential_callers(client, auth):
    seen = await create_ticket(client, caller={"name": "Phạm Thị Hoa", "phone": "0903 111 222"})
    secret = await create_ticket(
        client, caller={"name": "Phạm Thị Hoa", "phone": "0903 111 222", "confidential": True}
    )
    assert await ids(client, q="pham thi hoa") == [seen["id"]]
    assert await ids(client, q="0903 111 222") == [seen["id"]]
    assert await ids(client, q="+84903111222") == [seen["id"]]
    # A supervisor (who may reveal) does not find the confidential ticket by name either.
    response = await client.get("/tickets", params={"q": "Hoa"}, headers=auth("supervisor"))
    assert [t["id"] for t in response.json()["items"]] == [seen["id"]]
    assert secret["id"] not in await ids(client, q="0903111222")
    # A number typed into q is a caller-history lookup: on the access log like caller_phone.
    log = await client.get("/audit/access", params={"user": "operator"}, headers=auth("supervisor"))
    assert [r["action"] for r in log.json()["items"]].count("caller_history") == 3


async def test_relevance_puts_the_phrase_as_typed_first(client):
    loose = await create_ticket(client, description="Nước thải tràn ra đường, mất vệ sinh")
    exact = await create_ticket(client, description="Mất nước sinh hoạt từ sáng")
    await create_ticket(client, description="Đèn đường không sáng")
    assert await ids(client, q="mất nước", sort="relevance") == [exact["id"], loose["id"]]
    newest = await ids(client, q="mất nước")
    assert newest == [exact["id"], loose["id"]]  # newest first: the same two


async def test_relevance_pages_and_rejects_foreign_cursors(client):
    made = [await create_ticket(client, description=f"Mất nước khu {i}") for i in range(5)]
    first = (
        await client.get("/tickets", params={"q": "mat", "sort": "relevance", "limit": 3})
    ).json()
    second = await client.get(
        "/tickets",
        params={"q": "mat", "sort": "relevance", "limit": 3, "cursor": first["next_cursor"]},
    )
    seen = [t["id"] for t in first["items"]] + [t["id"] for t in second.json()["items"]]
    assert sorted(seen) == sorted(t["id"] for t in made)
    assert second.json()["next_cursor"] is None
    bad = await client.get("/tickets", params={"q": "mat", "sort": "relevance", "cursor": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("q", ["!!!", "  -  "])
async def test_nothing_searchable_finds_nothing(client, q):
    await create_ticket(client)
    assert await ids(client, q=q) == []


async def test_a_correction_updates_what_is_found(client):
    ticket = await create_ticket(client, description="Cây đổ chắn đường")
    response = await client.patch(
        f"/tickets/{ticket['id']}", json={"description": "Cột điện nghiêng"}
    )
    assert response.status_code == 200
    assert await ids(client, q="cot dien") == [ticket["id"]]
    assert await ids(client, q="cay do") == []
    # The caller is still found after the correction.
    assert await ids(client, q="Nguyễn Văn An") == [ticket["id"]]


async def test_several_common_words_read_in_a_window_find_what_the_index_finds(client, monkeypatch):
    made = [await create_ticket(client, description=f"Rác thải ùn ứ lần {i}") for i in range(4)]
    await create_ticket(client, description="Đèn đường không sáng")
    newest_first = [t["id"] for t in reversed(made)]
    # A test database has no statistics, so no window: every match through the index.
    assert await ids(client, q="thải rác") == newest_first
    start = None

    async def window(session, flt, limit):
        return start

    monkeypatch.setattr(search_repo, "newest_window", window)
    # The newest three in the window: enough for a page of two (and the "more" look-ahead).
    start = datetime.fromisoformat(made[1]["received_at"])
    assert await ids(client, q="thải rác", limit=2) == newest_first[:2]
    # Too few in the window for a page of 50: all matches are read after all.
    assert await ids(client, q="thải rác") == newest_first
    assert await ids(client, q="thải rác", sort="relevance") == newest_first
    # Words that are not all in a ticket still exclude it, in the window or not.
    assert await ids(client, q="rác đèn") == []


async def test_relevance_ranks_the_window_when_it_holds_the_page(client, monkeypatch):
    made = [
        await create_ticket(client, description=f"Mất nước sinh hoạt lần {i}") for i in range(4)
    ]
    newest_first = [t["id"] for t in reversed(made)]
    start = datetime.fromisoformat(made[1]["received_at"])

    async def window(session, flt, limit):
        return start

    monkeypatch.setattr(search_repo, "newest_window", window)
    # Three in the window: a page of two and the look-ahead are there; equal scores, newest first.
    page = await client.get("/tickets", params={"q": "mat nuoc", "sort": "relevance", "limit": 2})
    assert [t["id"] for t in page.json()["items"]] == newest_first[:2]
    assert page.json()["next_cursor"] == "r2"
    # The next page needs more than the window holds: the whole pool, the same order.
    more = await ids(client, q="mat nuoc", sort="relevance", limit=2, cursor="r2")
    assert more == newest_first[2:]
