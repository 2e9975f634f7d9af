"""A trigram index on the head's normalised name, for search by any word of it (PostgreSQL).

``LIKE '%word%'`` on ``head_name_search`` (already lower-case and without accents, so no
``unaccent`` is needed at query time) is answered by this GIN index. SQLite has no such index
and runs the same filters by scanning; nothing is created there.
"""

from django.db import migrations


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


CREATE = """
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS hh_name_trgm_idx
        ON farmers_household USING gin (head_name_search gin_trgm_ops);
"""
DROP = "DROP INDEX IF EXISTS hh_name_trgm_idx;"


class Migration(migrations.Migration):
    dependencies = [("farmers", "0015_crop_installations")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
