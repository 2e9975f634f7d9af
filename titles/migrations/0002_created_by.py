"""The one actor pair (issue 14): who filed an objection, uploaded a document or made a move is
``created_by`` / ``created_by_key`` (``registry.models.CreatedByModel``), like the file itself.
Column renames: the data stays."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _created_by() -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
        verbose_name="created by",
    )


def _created_by_key() -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="registry.apikey",
        verbose_name="created by (API key)",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_outbox"),
        ("titles", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("objection", "filed_by", "created_by"),
        migrations.RenameField("objection", "filed_by_key", "created_by_key"),
        migrations.RenameField("titledocument", "uploaded_by", "created_by"),
        migrations.RenameField("titledocument", "uploaded_by_key", "created_by_key"),
        migrations.RenameField("titlestatuschange", "actor_user", "created_by"),
        migrations.RenameField("titlestatuschange", "actor_api_key", "created_by_key"),
        # Verbose names of the kernel's pair (no database change).
        *(
            operation
            for model in ("objection", "titledocument", "titlestatuschange", "titleapplication")
            for operation in (
                migrations.AlterField(model, "created_by", _created_by()),
                migrations.AlterField(model, "created_by_key", _created_by_key()),
            )
        ),
        # ``registry.models.VersionedModel``'s stamp (set on every save; no database change).
        migrations.AlterField(
            model_name="titleapplication",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated at"),
        ),
    ]
