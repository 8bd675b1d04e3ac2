"""search lexemes: the distinct words of the search vectors, for prefixes as exact words

(PostgreSQL only.)

`search_lexeme` holds every distinct letters-only lexeme of the tickets' search vectors up to
the watermark `search_lexeme_mark.upto_id`; `nuoc:*` can then be asked of the GIN index as
`nuoc | nuocx | …`, which it intersects with another word skipping through posting trees
instead of gathering every posting of the prefix into a bitmap (app.search.lexemes,
docs/search.md "Prefix words as exact words").

Kept up to date without touching intake: tickets newer than the watermark are searched with the
prefix form (a short id range), and the periodic maintenance advances the watermark
(app.search.lexemes.refresh). A change of an existing ticket's search text (a correction, an
erasure, retention, a re-fold) goes through the trigger below: words it adds are added, and
words it removes are deleted when no ticket holds them any more, so that an erased caller's
name does not survive here (docs/privacy.md). Changes and the refresh are serialised with one
transaction advisory lock (two erasures of the same rare name must not each see the other's
ticket still holding it; an erasure must see a correction that brings the word it deletes). Digits (phone numbers, house numbers) are never kept: words with digits keep the
prefix form.

The initial fill reads every ticket's vector once (at 1M tickets: see docs/performance.md);
creating the trigger first waits for intakes in flight, so the watermark taken after it misses
none. SQLite: nothing (it scans).

Revision ID: 7060bbf944ad
Revises: c7d2e9f41a06
Create Date: 2026-11-29 17:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7060bbf944ad"
down_revision: str | None = "c7d2e9f41a06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.search.lexemes.REMOVAL_LOCK: the same constant ("1022 search lexemes").
REMOVAL_LOCK = 0x1022_5E1E

FOLLOW = f"""
CREATE FUNCTION search_lexeme_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    word text;
    held boolean;
    removed text[];
BEGIN
    -- Every change of words, and the refresh, one at a time: an erasure deleting a word must
    -- see a correction that brings it (and the reverse). Taken first, before any insert here.
    -- Callers hold their tickets' row locks already (FOR UPDATE, SKIP LOCKED): no cycle.
    PERFORM pg_advisory_xact_lock({REMOVAL_LOCK});
    SELECT array_agg(l) INTO removed FROM unnest(tsvector_to_array(OLD.search_vector)) AS l
    WHERE l ~ '^[a-z]+$' AND NOT l = ANY (tsvector_to_array(NEW.search_vector));
    INSERT INTO search_lexeme (lexeme)
    SELECT l FROM unnest(tsvector_to_array(NEW.search_vector)) AS l
    WHERE l ~ '^[a-z]+$' AND NOT l = ANY (tsvector_to_array(OLD.search_vector))
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
    op.execute('CREATE TABLE search_lexeme (lexeme text COLLATE "C" PRIMARY KEY)')
    op.execute(
        "CREATE TABLE search_lexeme_mark (only_row boolean PRIMARY KEY DEFAULT true "
        "CHECK (only_row), upto_id bigint NOT NULL, pending_id bigint NOT NULL)"
    )
    op.execute(FOLLOW)
    op.execute(
        "CREATE TRIGGER ticket_search_lexemes AFTER UPDATE OF search_text ON ticket "
        "FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) "
        "EXECUTE FUNCTION search_lexeme_follow()"
    )
    # The trigger's lock on ticket (SHARE ROW EXCLUSIVE) is held to the end of the migration:
    # no intake commits between the fill and the watermark.
    op.execute(
        "INSERT INTO search_lexeme (lexeme) SELECT DISTINCT l FROM ticket, "
        "unnest(tsvector_to_array(search_vector)) AS l WHERE l ~ '^[a-z]+$'"
    )
    op.execute(
        "INSERT INTO search_lexeme_mark (upto_id, pending_id) "
        "SELECT coalesce(max(id), 0), coalesce(max(id), 0) FROM ticket"
    )
    op.execute("ANALYZE search_lexeme")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER ticket_search_lexemes ON ticket")
    op.execute("DROP FUNCTION search_lexeme_follow()")
    op.execute("DROP TABLE search_lexeme_mark")
    op.execute("DROP TABLE search_lexeme")
