"""Prefix words asked as their exact words (PostgreSQL, app.search.lexemes): the same tickets
found as by the prefix form, new tickets and corrected ones included; erased names leave the
table. On SQLite the searches are checked (they scan; there is no table)."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from app.db import transaction
from app.privacy.anonymise import anonymise
from app.search import lexemes
from app.search import repository as search_repo
from app.search.words import words_condition
from app.tickets.models import Ticket
from tests.conftest import create_ticket

# Words sharing prefixes, none of them in other tests' tickets.
OLD = [
    "Kẹo kéo karaokê nước mắm",
    "Karaokebox ồn ào, nuôi chó thả rông",
    "Nước mắm đổ tràn nuốc",
    "Kara nước nuocmamxa",
    "Quán karaoke số 0912 gần chợ",
]
NEW = ["Karaokemoi nước nuocxanhmoi tràn", "nuocxanhmoi karaoke"]


async def _lexeme_words(session, prefix: str) -> list[str]:
    rows = await session.execute(
        text("SELECT lexeme FROM search_lexeme WHERE lexeme LIKE :p ORDER BY lexeme"),
        {"p": prefix + "%"},
    )
    return [r[0] for r in rows]


async def _refresh(app) -> None:
    """Two refreshes: the first marks the newest ticket, the second takes its words in."""
    for _ in range(2):
        async with transaction(app.state.runtime.session_factory) as session:
            await lexemes.refresh(session)


@contextmanager
def statements_sent(app) -> Iterator[list[str]]:
    """The SQL the searches send (they read from the read engine) while the block runs."""
    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    engine = app.state.runtime.databases.read.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _ids_of(found) -> list[int]:
    return [t["id"] for t in found.json()["items"]]


@pytest.fixture
def fallback(monkeypatch):
    """Several words always read through the index: an empty window (it starts tomorrow)."""

    async def window(session, flt, limit):
        return datetime.now(UTC) + timedelta(days=1)

    monkeypatch.setattr(search_repo, "newest_window", window)


async def test_exact_words_find_what_prefixes_find(client, app, is_postgres, fallback):
    old = [await create_ticket(client, description=d) for d in OLD]
    if is_postgres:
        await _refresh(app)
    new = [await create_ticket(client, description=d) for d in NEW]
    # An old ticket corrected with a word nobody had: the trigger adds it at once.
    r = await client.patch(f"/tickets/{old[0]['id']}", json={"description": "Keo karaokesua"})
    assert r.status_code == 200, r.text
    mine = {t["id"] for t in old + new}
    prefixes = sorted(
        {
            w[:n]
            for w in ["karaokesua", "nuocxanhmoi", "nuocmamxa", "0912"]
            for n in range(1, len(w) + 1)
        }
        | {"nuoc", "karaoke", "kara", "nuoi"}
    )
    queries = [(p,) for p in prefixes] + list(itertools.combinations(prefixes, 2))
    if is_postgres:
        factory = app.state.runtime.session_factory
        async with transaction(factory) as session:
            exp = await lexemes.expansions(session, ["nuoc", "karaoke", "karaokes", "0912"])
            assert exp is not None
            # Old words are in the table; the new tickets' words not yet; digits never.
            assert {"nuoc", "nuocmamxa"} <= set(exp.words["nuoc"])
            assert "nuocxanhmoi" not in exp.words["nuoc"]
            assert exp.words["karaokes"] == ("karaokesua",)
            assert "0912" not in exp.words
            checked = 0
            for words in queries:
                exp = await lexemes.expansions(session, words)
                plain = words_condition("postgresql", words, "all")
                exact = words_condition("postgresql", words, "all", exp)
                a = set((await session.scalars(select(Ticket.id).where(plain))).all()) & mine
                b = set((await session.scalars(select(Ticket.id).where(exact))).all()) & mine
                assert a == b, (words, exp)
                checked += bool(a)
            assert checked > 20  # the table is not vacuous: most queries find something
    # Through the API, several words read through the index (the fallback of the window).
    found = await client.get("/tickets", params={"q": "nuocxanh karaokê"})
    assert _ids_of(found) == [new[1]["id"], new[0]["id"]]
    found = await client.get("/tickets", params={"q": "karaokes keo"})
    assert _ids_of(found) == [old[0]["id"]]
    found = await client.get("/tickets", params={"q": "nước karaok"})
    # Not old[0] (its "karaokê nước" was corrected away), nor "kara nước" (kara is shorter).
    assert set(_ids_of(found)) & mine == {new[0]["id"], new[1]["id"]}


async def test_the_index_is_asked_exact_words(client, app, is_postgres, fallback):
    """The point of it all: `karaoke:* & nuoc:*` gathers every posting of both prefixes."""
    await create_ticket(client, description="Karaokeqt nước sinh hoạt")
    if not is_postgres:
        return
    await _refresh(app)
    with statements_sent(app) as sent:
        found = await client.get("/tickets", params={"q": "nước karaokeq"})
    assert len(found.json()["items"]) == 1
    exact = [s for s in sent if "'(karaokeqt) & (" in s]
    assert exact, sent
    assert "nuoc |" in exact[0] or "(nuoc)" in exact[0]


async def test_intake_leaves_the_table_alone_and_refresh_takes_new_words(client, app, is_postgres):
    if not is_postgres:
        return
    factory = app.state.runtime.session_factory
    await _refresh(app)
    ticket = await create_ticket(client, description="Xyzquanh tràn")
    async with transaction(factory) as session:
        assert await _lexeme_words(session, "xyzquanh") == []
        mark = await session.execute(text("SELECT upto_id, pending_id FROM search_lexeme_mark"))
        upto, _pending = mark.one()
        assert upto < ticket["id"]
    # One refresh marks it, the next takes its words in (an intake in flight has committed).
    async with transaction(factory) as session:
        await lexemes.refresh(session)
    async with transaction(factory) as session:
        assert await _lexeme_words(session, "xyzquanh") == []
        await lexemes.refresh(session)
    async with transaction(factory) as session:
        assert await _lexeme_words(session, "xyzquanh") == ["xyzquanh"]
        upto, _ = (await session.execute(text("SELECT upto_id, 0 FROM search_lexeme_mark"))).one()
        assert upto >= ticket["id"]


async def test_an_erased_callers_name_leaves_the_table(client, app, auth, is_postgres):
    gone = await create_ticket(client, caller={"name": "Vưuthảo Quýtminh", "phone": "0977 555 101"})
    kept = await create_ticket(
        client,
        caller={"name": "Vưuthảo Lành", "phone": "0977 555 202"},
        description="Đèn hỏng",
    )
    if is_postgres:
        await _refresh(app)
        async with transaction(app.state.runtime.session_factory) as session:
            assert await _lexeme_words(session, "vuuthao") == ["vuuthao"]
            assert await _lexeme_words(session, "quytminh") == ["quytminh"]
    answer = await client.post(
        "/callers/erase",
        json={"phone": "0977 555 101", "ground": "Yêu cầu xoá", "request_ref": "YC-15"},
        headers=auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["erased"] == [gone["reference"]]
    assert _ids_of(await client.get("/tickets", params={"q": "quytminh"})) == []
    assert _ids_of(await client.get("/tickets", params={"q": "vuuthao"})) == [kept["id"]]
    if is_postgres:
        async with transaction(app.state.runtime.session_factory) as session:
            assert await _lexeme_words(session, "quytminh") == []
            # Another caller still has this word: it stays.
            assert await _lexeme_words(session, "vuuthao") == ["vuuthao"]


async def test_retention_anonymising_a_name_removes_its_words(client, app, is_postgres):
    made = await create_ticket(client, caller={"name": "Ôngkhuê Bàqưn", "phone": "0977 555 303"})
    factory = app.state.runtime.session_factory
    if is_postgres:
        await _refresh(app)
    async with transaction(factory) as session:
        ticket = await session.get(Ticket, made["id"])
        await anonymise(
            session,
            [ticket],
            kinds=frozenset({"caller"}),
            now=datetime.now(UTC),
            keys=app.state.runtime.privacy_keys,
        )
    assert _ids_of(await client.get("/tickets", params={"q": "ongkhue"})) == []
    if is_postgres:
        async with transaction(factory) as session:
            assert await _lexeme_words(session, "ongkhue") == []
            assert await _lexeme_words(session, "baqun") == []


async def test_a_word_with_digits_is_found_by_its_letters(client, app, is_postgres, fallback):
    """Block names are letters then digits ("HH4C", "CT3", "kiot12"): their lexemes hold digits,
    yet `hh` begins them, as the prefix form says."""
    towers = await create_ticket(client, description="Thang máy chung cư Qhh4c Linh Đàm hỏng")
    kiosk = await create_ticket(client, description="Kiotqz12 lấn chiếm vỉa hè")
    if is_postgres:
        await _refresh(app)
    assert _ids_of(await client.get("/tickets", params={"q": "qhh"})) == [towers["id"]]
    assert _ids_of(await client.get("/tickets", params={"q": "thang qhh"})) == [towers["id"]]
    assert _ids_of(await client.get("/tickets", params={"q": "kiotqz"})) == [kiosk["id"]]
    assert _ids_of(await client.get("/tickets", params={"q": "kiotqz via"})) == [kiosk["id"]]


async def _all_pages(client, params: dict) -> list[int]:
    ids, cursor = [], None
    for _ in range(20):
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        page = (await client.get("/tickets", params=query)).json()
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("paging did not end")


async def test_a_word_of_a_few_thousand_tickets_read_through_the_index_keeps_the_order(
    client, app, is_postgres, monkeypatch
):
    """A word whose matches are few enough (app.search.rarity.read_through_index) is read
    through the GIN index and sorted instead of walked newest first: the same tickets, in the
    same order, page by page, a ticket newer than the words' watermark included."""
    made = [await create_ticket(client, description=f"Miếuqz số {i} đổ tường") for i in range(5)]
    await create_ticket(client, description="Cống tắc, không liên quan")
    if is_postgres:
        await _refresh(app)
    late = await create_ticket(client, description="Miếuqzz mới xây, tường nứt")
    expected = [late["id"], *(t["id"] for t in reversed(made))]
    asks = [{"q": "miếuqz", "limit": 2}, {"q": "mieuqz tường", "limit": 3}]
    walked = [await _all_pages(client, params) for params in asks]
    assert walked == [expected, expected]

    async def few(session, flt, limit):  # as if the statistics said so (PostgreSQL only)
        return session.bind.dialect.name == "postgresql"

    monkeypatch.setattr(search_repo, "few_matches", few)
    with statements_sent(app) as sent:
        read = [await _all_pages(client, params) for params in asks]
    assert read == walked
    if is_postgres:
        # Sorted, not walked, and the word asked as the exact words it begins.
        assert any("interval '0'" in s and "'(mieuqz" in s for s in sent), sent
