"""The ``formalized`` rung goes (issue 15): tenure becomes a track of its own.

Data: households at ``formalized`` move to ``licit_production`` (the rung below, whose criteria
they met: the old ladder was cumulative); the next recompute or nightly sweep then sets their
true stage (``market_linked`` or ``graduated`` for families that sell, whatever their title).
The ``formalized`` milestone (the first registered title's date) becomes the ``tenure``
milestone. Ledger rows naming ``formalized`` are kept, remapped to ``licit_production`` and
annotated with ``evidence.replaced_stage`` so the history still says what was recorded, and
every "by month" figure rebuilt from the ledger names only stages that exist.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

OLD, NEW, TENURE = "formalized", "licit_production", "tenure"
CHUNK = 2000


def forwards(apps, schema_editor):
    household_model = apps.get_model("farmers", "Household")
    ledger_model = apps.get_model("farmers", "StageChange")
    db = schema_editor.connection.alias
    households = household_model.objects.using(db)
    households.filter(stage=OLD).update(stage=NEW, updated_at=timezone.now())
    if schema_editor.connection.vendor == "postgresql":
        table = household_model._meta.db_table
        schema_editor.execute(
            f'UPDATE "{table}" SET milestones = (milestones - %s) '
            "|| jsonb_build_object(%s, milestones -> %s) WHERE milestones ? %s",
            [OLD, TENURE, OLD, OLD],
        )
    else:
        batch = []
        for row in households.filter(milestones__has_key=OLD).only("pk", "milestones").iterator():
            milestones = dict(row.milestones)
            milestones[TENURE] = milestones.pop(OLD)
            row.milestones = milestones
            batch.append(row)
        households.bulk_update(batch, ["milestones"], batch_size=CHUNK)
    rows = []
    for row in ledger_model.objects.using(db).filter(Q(from_stage=OLD) | Q(to_stage=OLD)).iterator():
        replaced = {}
        for field in ("from_stage", "to_stage"):
            if getattr(row, field) == OLD:
                replaced[field] = OLD
                setattr(row, field, NEW)
        row.evidence = {**(row.evidence or {}), "replaced_stage": replaced}
        rows.append(row)
    ledger_model.objects.using(db).bulk_update(
        rows, ["from_stage", "to_stage", "evidence"], batch_size=CHUNK
    )


class Migration(migrations.Migration):

    dependencies = [
        ('farmers', '0009_actor_pair_created_by'),
    ]

    operations = [
        migrations.AlterField(
            model_name='household',
            name='stage',
            field=models.CharField(choices=[('enrolled', 'Enrolled'), ('committed', 'Committed'), ('coca_free', 'Coca-free'), ('licit_production', 'Licit production'), ('market_linked', 'Market-linked'), ('graduated', 'Graduated'), ('relapsed', 'Relapsed'), ('excluded', 'Excluded')], default='enrolled', max_length=20, verbose_name='stage'),
        ),
        migrations.AlterField(
            model_name='stagechange',
            name='from_stage',
            field=models.CharField(choices=[('enrolled', 'Enrolled'), ('committed', 'Committed'), ('coca_free', 'Coca-free'), ('licit_production', 'Licit production'), ('market_linked', 'Market-linked'), ('graduated', 'Graduated'), ('relapsed', 'Relapsed'), ('excluded', 'Excluded')], max_length=20, verbose_name='from stage'),
        ),
        migrations.AlterField(
            model_name='stagechange',
            name='to_stage',
            field=models.CharField(choices=[('enrolled', 'Enrolled'), ('committed', 'Committed'), ('coca_free', 'Coca-free'), ('licit_production', 'Licit production'), ('market_linked', 'Market-linked'), ('graduated', 'Graduated'), ('relapsed', 'Relapsed'), ('excluded', 'Excluded')], max_length=20, verbose_name='to stage'),
        ),
        # Not reversible in meaning (which families were formalized is not kept): backwards
        # leaves the data as it is.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
