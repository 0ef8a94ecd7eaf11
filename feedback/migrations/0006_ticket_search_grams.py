"""The ticket search's PostgreSQL index: every character and character pair of the searched fields
in a generated column ``search_grams`` (text[]) with a GIN index.

The grams come from the masked text (plus order number, SKU and external id, each on its own: no
pair spans two fields), so a masked phone number is not in the column at all. PostgreSQL computes
the column on every INSERT and UPDATE, so no write path (the form, the API batch, imports, the
demo, raw SQL) can leave it stale, and adding it fills it for the rows already there: the backfill.
The column is stored rather than an index on the expression because the list page walks the
received_at index newest first and tests each row: reading a stored array costs microseconds,
computing the grams again tens of them (see benchmarks/search_bench.py).

The Django model does not declare the column (SQLite has none and searches with LIKE);
feedback.selectors reads it. Consequences:
- ADD COLUMN ... STORED rewrites the table under an exclusive lock: 1,000,000 short tickets took
  about two minutes on a loaded two-core machine (benchmarks/search_bench.py prints it). On a
  large table run this migration in a maintenance window.
- PostgreSQL refuses to change the type of a column a generated column reads: a later migration
  that alters text_masked, order_number, sku_raw or external_id drops search_grams first
  (``DROP_COLUMN`` below) and adds it back (``ADD_COLUMN`` and ``INDEX``).
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
ADD_COLUMN = """
ALTER TABLE feedback_ticket ADD COLUMN IF NOT EXISTS search_grams text[]
    GENERATED ALWAYS AS (feedback_search_grams(text_masked, order_number, sku_raw, external_id)) STORED;
"""
INDEX = """
CREATE INDEX IF NOT EXISTS feedback_ticket_search_grams ON feedback_ticket USING gin (search_grams);
"""
DROP_COLUMN = """
ALTER TABLE feedback_ticket DROP COLUMN IF EXISTS search_grams;
"""
DROP = DROP_COLUMN + """
DROP FUNCTION IF EXISTS feedback_search_term_grams(text);
DROP FUNCTION IF EXISTS feedback_search_grams(text, text, text, text);
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GRAMS)
    schema_editor.execute(TERM_GRAMS)
    schema_editor.execute(ADD_COLUMN)
    schema_editor.execute(INDEX)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0005_import_wizard"),
    ]

    operations = [migrations.RunPython(create, drop)]
