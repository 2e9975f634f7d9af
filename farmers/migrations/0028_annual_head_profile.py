"""The head's sex and birth date on the household (issue 17: the annual report's
disaggregation without a join on members), backfilled from the active head members."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Copy every household's active head's sex and birth date (one ``UPDATE … FROM`` on
    PostgreSQL, a correlated ``UPDATE`` elsewhere)."""
    Household = apps.get_model("farmers", "Household")
    Member = apps.get_model("farmers", "Member")
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Household._meta.db_table} h "
                "SET head_sex = m.sex, head_birth_date = m.birth_date "
                f"FROM {Member._meta.db_table} m "
                "WHERE m.household_id = h.id AND m.is_head AND m.is_active"
            )
        return
    heads = Member.objects.filter(household_id=models.OuterRef("pk"), is_head=True, is_active=True)
    Household.objects.update(
        head_sex=models.functions.Coalesce(
            models.Subquery(heads.values("sex")[:1]), models.Value("")
        ),
        head_birth_date=models.Subquery(heads.values("birth_date")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("farmers", "0027_import_speed"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="head_sex",
            field=models.CharField(
                blank=True,
                choices=[("f", "Female"), ("m", "Male")],
                db_default="",
                default="",
                editable=False,
                max_length=1,
                verbose_name="head's sex",
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="head_birth_date",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="head's birth date"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
