"""The one actor pair (issue 14): who created a row is ``created_by`` / ``created_by_key``
everywhere (``registry.models.CreatedByModel``). Columns are renamed, data kept."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _user(verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
    )


def _key(verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="registry.apikey",
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("markets", "0003_buyer_offers_delivery_confirmation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("buyeroffer", "offered_by", "created_by"),
        migrations.RenameField("buyeroffer", "offered_by_key", "created_by_key"),
        migrations.RenameField("delivery", "recorded_by", "created_by"),
        migrations.RenameField("delivery", "recorded_by_key", "created_by_key"),
        migrations.RenameField("contractstatuschange", "actor_user", "created_by"),
        migrations.RenameField("contractstatuschange", "actor_api_key", "created_by_key"),
        migrations.AlterField("buyeroffer", "created_by", _user("created by")),
        migrations.AlterField("buyeroffer", "created_by_key", _key("created by (API key)")),
        migrations.AlterField("delivery", "created_by", _user("created by")),
        migrations.AlterField("delivery", "created_by_key", _key("created by (API key)")),
        migrations.AlterField("contractstatuschange", "created_by", _user("created by")),
        migrations.AlterField(
            "contractstatuschange", "created_by_key", _key("created by (API key)")
        ),
        migrations.AlterField("contract", "created_by_key", _key("created by (API key)")),
    ]
