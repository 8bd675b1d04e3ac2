"""search lexemes: the words that begin with a letter, digits after included

(PostgreSQL only.)

7060bbf944ad kept only letters-only words in `search_lexeme`, yet a typed word of letters
begins words that go on with digits: the block "HH4C" is the lexeme `hh4c`, which `hh` begins.
Asked as exact words, `hh` missed every such ticket up to the watermark (the prefix form finds
them). The table now keeps every word that begins with a letter; words that begin with a digit
(phone numbers, house numbers) are still never kept, and a typed word with digits still keeps
the prefix form (app.search.prefixes.expandable).

The trigger's function is replaced with the wider pattern (an erasure removes such words as it
does the others), then the words missing up to the watermark are added; both under the lock
that every change of words and the refresh take (app.search.lexemes.REMOVAL_LOCK), so no
refresh moves the watermark in between. Reads every ticket's vector once, as 7060bbf944ad's
fill did.

Revision ID: adfe2c2b4252
Revises: 7060bbf944ad
Create Date: 2026-11-29 18:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "adfe2c2b4252"
down_revision: str | None = "7060bbf944ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.search.lexemes.REMOVAL_LOCK: the same constant ("1022 search lexemes").
REMOVAL_LOCK = 0x1022_5E1E
WORDS = "'^[a-z][a-z0-9]*$'"
LETTERS = "'^[a-z]+$'"

FOLLOW = """
CREATE OR REPLACE FUNCTION search_lexeme_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    word text;
    held boolean;
    removed text[];
BEGIN
    -- Every change of words, and the refresh, one at a time: an erasure deleting a word must
    -- see a correction that brings it (and the reverse). Taken first, before any insert here.
    -- Callers hold their tickets' row locks already (FOR UPDATE, SKIP LOCKED): no cycle.
    PERFORM pg_advisory_xact_lock({lock});
    SELECT array_agg(l) INTO removed FROM unnest(tsvector_to_array(OLD.search_vector)) AS l
    WHERE l ~ {words} AND NOT l = ANY (tsvector_to_array(NEW.search_vector));
    INSERT INTO search_lexeme (lexeme)
    SELECT l FROM unnest(tsvector_to_array(NEW.search_vector)) AS l
    WHERE l ~ {words} AND NOT l = ANY (tsvector_to_array(OLD.search_vector))
    ORDER BY l
    ON CONFLICT DO NOTHING;
    FOREACH word IN ARRAY coalesce(removed, '{{}}')
    LOOP
        -- The word as a literal: the planner then knows its share (a walk that stops at the
        -- first holder for a common word, the index for a rare one).
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM ticket WHERE search_vector @@ %L::tsquery)', word
        ) INTO held;
        IF NOT held THEN
            DELETE FROM search_lexeme WHERE lexeme = word;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"SELECT pg_advisory_xact_lock({REMOVAL_LOCK})")
    op.execute(FOLLOW.format(lock=REMOVAL_LOCK, words=WORDS))
    op.execute(
        "INSERT INTO search_lexeme (lexeme) SELECT DISTINCT l FROM ticket, "
        "unnest(tsvector_to_array(search_vector)) AS l, search_lexeme_mark m "
        f"WHERE ticket.id <= m.upto_id AND l ~ {WORDS} AND l !~ {LETTERS} "
        "ON CONFLICT DO NOTHING"
    )
    op.execute("ANALYZE search_lexeme")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"SELECT pg_advisory_xact_lock({REMOVAL_LOCK})")
    op.execute(FOLLOW.format(lock=REMOVAL_LOCK, words=LETTERS))
    op.execute(f"DELETE FROM search_lexeme WHERE lexeme !~ {LETTERS}")
