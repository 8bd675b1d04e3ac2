"""A ticket's folded search text, and re-folding the stored ones when folding changes."""

from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection

from app.privacy.masking import searchable
from app.text import fold
from app.tickets.models import Ticket

# Characters the first folding dropped (it knew only đ/Đ): rows containing them are re-folded.
NEWLY_FOLDED = "\u00d0\u00f0\u0189\u0256"


def search_text(description: str, address: str | None) -> str:
    """What `q` searches: description and address, folded (app.text.fold)."""
    return fold(f"{description} {address or ''}")


def refold_search_text(connection: Connection, *, batch: int = 1000) -> int:
    """Recompute search_text of every ticket whose text holds a character folding now keeps;
    the number of rows changed. Synchronous (Alembic's connection), in batches by id."""
    t = Ticket.__table__
    holds = or_(
        *(column.contains(ch) for ch in NEWLY_FOLDED for column in (t.c.description, t.c.address))
    )
    write = update(t).where(t.c.id == bindparam("row_id")).values(search_text=bindparam("text"))
    changed, after = 0, 0
    while True:
        rows = connection.execute(
            select(
                t.c.id,
                t.c.description,
                t.c.address,
                t.c.search_text,
                # What masking needs: a confidential caller's identity stays out of the text.
                t.c.caller_name,
                t.c.caller_phone,
                t.c.caller_email,
                t.c.anonymous,
                t.c.confidential,
            )
            .where(holds, t.c.id > after)
            .order_by(t.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        updates: list[dict[str, Any]] = [
            {"row_id": row.id, "text": new}
            for row in rows
            if (new := searchable(row, search_text(row.description, row.address)))
            != row.search_text
        ]
        if updates:
            connection.execute(write, updates)
            changed += len(updates)
        after = rows[-1].id
