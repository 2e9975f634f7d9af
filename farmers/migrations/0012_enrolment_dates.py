"""``Household.enrolled_on``: the enrolment date (the consent's date, or an import's), backfilled
from each household's earliest consent. Households without a consent keep it empty: their
creation day counts. Run ``manage.py rebuild_transition_ledger`` afterwards to rebuild the
milestones and the one-row-per-rung ledger from the evidence."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Household = apps.get_model("farmers", "Household")
    Consent = apps.get_model("farmers", "Consent")
    first = (
        Consent.objects.filter(household=OuterRef("pk"))
        .order_by("signed_on")
        .values("signed_on")[:1]
    )
    Household.objects.filter(consents__isnull=False).update(enrolled_on=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("farmers", "0011_verification_plots"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="enrolled_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="enrolled on"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
