"""Title settings in one place (issue 14): the public-notice window is
``titles.TitleSettings.public_notice_days`` now (its migration copies each programme's value
first: it declares ``run_before`` this one, so the kernel names no app above it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_actor_pair_versioned_alert"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="program",
            name="public_notice_days",
        ),
    ]
