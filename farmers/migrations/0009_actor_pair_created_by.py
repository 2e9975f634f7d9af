"""The one actor pair (``registry.models.CreatedByModel``): who registered a household and who
recorded a visit are ``created_by`` / ``created_by_key``, columns renamed (data kept);
agreements gain ``created_by_key``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("farmers", "0008_keyset_page_indexes"),
        ("registry", "0008_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(
            model_name="household", old_name="registered_by", new_name="created_by"
        ),
        migrations.RenameField(
            model_name="household", old_name="registered_by_key", new_name="created_by_key"
        ),
        migrations.RenameField(model_name="verification", old_name="officer", new_name="created_by"),
        migrations.RenameField(
            model_name="verification", old_name="officer_key", new_name="created_by_key"
        ),
        migrations.AlterField(
            model_name="household",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="created_by_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.apikey",
                verbose_name="created by (API key)",
            ),
        ),
        migrations.AlterField(
            model_name="verification",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AlterField(
            model_name="verification",
            name="created_by_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.apikey",
                verbose_name="created by (API key)",
            ),
        ),
        migrations.AddField(
            model_name="agreement",
            name="created_by_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.apikey",
                verbose_name="created by (API key)",
            ),
        ),
    ]
