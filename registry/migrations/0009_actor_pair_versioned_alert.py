"""The one actor pair on the history rows; alerts become versioned records with timestamps.

``ChangeRecord`` and ``AccessLog``: ``actor_user`` / ``actor_api_key`` are renamed
``created_by`` / ``created_by_key`` (``registry.models.CreatedByModel``; a column rename, the
rows are kept). ``Alert`` inherits ``VersionedModel`` and gains ``created_at`` / ``updated_at``,
filled for existing alerts from the times they were raised and last moved.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Coalesce


def stamp_alerts(apps, schema_editor):
    """Existing alerts were created when raised and last changed when acknowledged or resolved."""
    Alert = apps.get_model("registry", "Alert")
    Alert.objects.update(
        created_at=models.F("raised_at"),
        updated_at=Coalesce(
            models.F("resolved_at"), models.F("acknowledged_at"), models.F("raised_at")
        ),
    )


HISTORY_MODELS = ("changerecord", "accesslog")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(
            migrations.RenameField(model, old, new)
            for model in HISTORY_MODELS
            for old, new in (("actor_user", "created_by"), ("actor_api_key", "created_by_key"))
        ),
        *(
            migrations.AlterField(
                model_name=model,
                name=name,
                field=models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="+",
                    to=to,
                    verbose_name=label,
                ),
            )
            for model in HISTORY_MODELS
            for name, to, label in (
                ("created_by", settings.AUTH_USER_MODEL, "created by"),
                ("created_by_key", "registry.apikey", "created by (API key)"),
            )
        ),
        migrations.AddField(
            model_name="alert",
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="created at"
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="updated at"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(stamp_alerts, migrations.RunPython.noop, elidable=True),
    ]
