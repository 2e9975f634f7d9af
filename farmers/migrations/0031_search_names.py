"""Search by any member's names (issue 18 point 3): ``Household.names_search`` holds the words
of every active member's given names and surnames (``farmers.identity.search_words``), filled
here from the members, and a trigram index on it replaces the one on the head's name (dropped
before the fill, with ``hh_created_idx``, so that the fill's ``UPDATE`` does not rewrite them).

``hh_created_idx`` (the list's order) becomes covering: it also holds the district, the
programme and the words, so a search walks it in order and tests each household on the index
alone (``registry.api.pagination.CursorPagination``, keys first).

On PostgreSQL the words are computed in Python (the same ``normalize_name`` as every write),
copied into a temporary table and set in one ``UPDATE`` (one transaction); the table is then
vacuumed (the rewritten rows' old versions go, and the visibility map that index-only scans need
is set) before the indexes are built. Not atomic, so that the vacuum can run; a rerun of the
fill is harmless. The column's statistics target is raised so that the planner's estimate of
how many households a word matches comes from a 1,000-bucket histogram. SQLite has no trigram
index nor covering index: the words are set with ``bulk_update`` and the search scans.
"""

from django.db import migrations, models, transaction

from farmers.identity import search_words

CHUNK = 20_000


def _words_by_household(Member):
    """``(household_id, words)`` for every household with an active member, in id order."""
    rows = (
        Member.objects.filter(is_active=True)
        .order_by("household_id")
        .values_list("household_id", "given_names", "surnames")
        .iterator(chunk_size=CHUNK)
    )
    current, names = None, []
    for household_id, given, surnames in rows:
        if household_id != current:
            if current is not None:
                yield current, search_words(names)
            current, names = household_id, []
        names.append(f"{given} {surnames}")
    if current is not None:
        yield current, search_words(names)


def fill(apps, schema_editor):
    with transaction.atomic(using=schema_editor.connection.alias):
        _fill(apps, schema_editor)


def _fill(apps, schema_editor):
    Household = apps.get_model("farmers", "Household")
    Member = apps.get_model("farmers", "Member")
    connection = schema_editor.connection
    batch = []
    if connection.vendor != "postgresql":
        for household_id, words in _words_by_household(Member):
            batch.append(Household(pk=household_id, names_search=words))
            if len(batch) >= 2000:
                Household.objects.bulk_update(batch, ["names_search"])
                batch = []
        Household.objects.bulk_update(batch, ["names_search"])
        return
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE search_words_fill (id uuid, words text)")

        def flush():
            with (
                connection.cursor() as copying,
                copying.cursor.copy("COPY search_words_fill (id, words) FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row(row)
            batch.clear()

        for row in _words_by_household(Member):
            batch.append(row)
            if len(batch) >= CHUNK:
                flush()
        flush()
        cursor.execute(
            "UPDATE farmers_household h SET names_search = f.words "
            "FROM search_words_fill f WHERE h.id = f.id"
        )
        cursor.execute("DROP TABLE search_words_fill")


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


DROP_OLD = "DROP INDEX IF EXISTS hh_name_trgm_idx;"
CREATE_OLD = """
    CREATE INDEX IF NOT EXISTS hh_name_trgm_idx
        ON farmers_household USING gin (head_name_search gin_trgm_ops);
"""
INDEX = """
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS hh_names_trgm_idx
        ON farmers_household USING gin (names_search gin_trgm_ops);
    ALTER TABLE farmers_household ALTER COLUMN names_search SET STATISTICS 1000;
"""
UNINDEX = "DROP INDEX IF EXISTS hh_names_trgm_idx;"


def _vacuum(command):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        sql = command if not connection.in_atomic_block else "ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} farmers_household")

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("farmers", "0030_mend_relapsed_households")]

    operations = [
        migrations.AddField(
            model_name="household",
            name="names_search",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        # The indexes the fill would otherwise rewrite for nothing go first.
        migrations.RunPython(_on_postgresql(DROP_OLD), _on_postgresql(CREATE_OLD), elidable=False),
        migrations.RemoveIndex(model_name="household", name="hh_created_idx"),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(_vacuum("VACUUM"), migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["created_at", "id"],
                include=("district", "program", "names_search"),
                name="hh_created_idx",
            ),
        ),
        migrations.RunPython(_on_postgresql(INDEX), _on_postgresql(UNINDEX), elidable=False),
        migrations.RunPython(_vacuum("ANALYZE"), migrations.RunPython.noop, elidable=False),
    ]
