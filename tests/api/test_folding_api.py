"""A text with a look-alike of Đ routes, searches and resolves like the same text with Đ."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.tickets.search_text import refold_search_text
from tests.conftest import create_ticket

ETH = "\u00d0"  # Ð, what Vietnamese keyboards and OCR produce for Đ
ETH_LOWER = "\u00f0"


async def search(client, q):
    response = await client.get("/tickets", params={"q": q})
    assert response.status_code == 200
    return {t["id"] for t in response.json()["items"]}


async def test_lookalike_text_searches_routes_and_resolves_like_d(client):
    ticket = await create_ticket(
        client,
        description=f"Mất {ETH_LOWER}iện cả khu, {ETH}èn {ETH_LOWER}ường tắt",
        topic=None,
        area=f"{ETH}ỐNG {ETH}A",
    )
    assert ticket["area"]["code"] == "phuong-dong-da"
    # The keyword rule for power cuts ("mất điện") matched the eth spelling.
    assert ticket["current_assignment"]["rule_id"] == "tu-khoa-dien"
    assert ticket["id"] in await search(client, "đèn đường")
    assert ticket["id"] in await search(client, f"{ETH}èn")


async def test_stored_search_text_folded_the_old_way_is_refolded(client, settings):
    ticket = await create_ticket(client, description=f"{ETH}èn {ETH_LOWER}ường hỏng")
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            # What the old folding stored: the eth dropped.
            await conn.execute(
                text("UPDATE ticket SET search_text = 'en uong hong' WHERE id = :id"),
                {"id": ticket["id"]},
            )
        assert ticket["id"] not in await search(client, "den duong")
        async with engine.begin() as conn:
            changed = await conn.run_sync(refold_search_text)
        assert changed >= 1
        assert ticket["id"] in await search(client, "den duong")
        async with engine.begin() as conn:
            assert await conn.run_sync(refold_search_text) == 0  # idempotent
    finally:
        await engine.dispose()


async def test_refolding_keeps_a_confidential_callers_identity_out(client, settings):
    name = f"{ETH}ặng Thị Hoa"
    ticket = await create_ticket(
        client,
        caller={"name": name, "phone": "0912 345 678", "confidential": True},
        description=f"{name} báo {ETH}èn hỏng trước nhà",
    )
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE ticket SET search_text = 'old' WHERE id = :id"), {"id": ticket["id"]}
            )
            await conn.run_sync(refold_search_text)
            stored = (
                await conn.execute(
                    text("SELECT search_text FROM ticket WHERE id = :id"), {"id": ticket["id"]}
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert "den hong" in stored
    assert "hoa" not in stored.split()
