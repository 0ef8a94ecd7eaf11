"""The PostgreSQL index the ticket search uses: every character and character pair of the searched
text, in a GIN index on an expression, so PostgreSQL keeps it current on every write.

A column filled by the services would have to be written by every path that saves a ticket (the
form, the API batch, imports, the demo, raw-SQL generators) and backfilled; an index on an
IMMUTABLE function of the columns cannot drift from them and its CREATE INDEX is the backfill.
The grams come from the masked text (plus order number, SKU and external id, each on its own:
no pair spans two fields), so a masked phone number is not in the index at all.

On a large table create the index by hand first, without locking writes, then migrate (the
IF NOT EXISTS makes the migration a no-op for it):

    CREATE INDEX CONCURRENTLY IF NOT EXISTS feedback_ticket_search_grams ON feedback_ticket
        USING gin (feedback_search_grams(text_masked, order_number, sku_raw, external_id));

(run the two CREATE FUNCTION statements below first). SQLite needs none of this: it searches
with LIKE over the table.
"""
from django.db import migrations

GRAMS = r"""
CREATE OR REPLACE FUNCTION feedback_search_grams(text_masked text, order_number text, sku_raw text, external_id text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Characters and character pairs, upper-cased as icontains compares (UPPER(x) LIKE UPPER(y));
    -- the fields are joined by a newline and pairs with white space are dropped, so no pair spans two.
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (SELECT upper(concat_ws(E'\n', text_masked, order_number, sku_raw, external_id)) AS v) AS s,
         LATERAL (SELECT substr(s.v, i, 1) FROM generate_series(1, length(s.v)) AS i
                  UNION ALL
                  SELECT substr(s.v, i, 2) FROM generate_series(1, length(s.v) - 1) AS i) AS g(gram)
    WHERE gram !~ '\s'
$$;
"""
TERM_GRAMS = r"""
CREATE OR REPLACE FUNCTION feedback_search_term_grams(term text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    -- What a text containing ``term`` must hold: its pairs, or the character itself when it is one.
    -- Only pairs for longer terms: a common single character is a long posting list to intersect.
    SELECT CASE WHEN length(term) = 1 THEN ARRAY[upper(term)]
                ELSE coalesce((SELECT array_agg(DISTINCT substr(upper(term), i, 2))
                               FROM generate_series(1, length(term) - 1) AS i), '{}') END
$$;
"""
INDEX = """
CREATE INDEX IF NOT EXISTS feedback_ticket_search_grams ON feedback_ticket
    USING gin (feedback_search_grams(text_masked, order_number, sku_raw, external_id));
"""
DROP = """
DROP INDEX IF EXISTS feedback_ticket_search_grams;
DROP FUNCTION IF EXISTS feedback_search_term_grams(text);
DROP FUNCTION IF EXISTS feedback_search_grams(text, text, text, text);
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GRAMS)
    schema_editor.execute(TERM_GRAMS)
    schema_editor.execute(INDEX)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0005_import_wizard"),
    ]

    operations = [migrations.RunPython(create, drop)]
