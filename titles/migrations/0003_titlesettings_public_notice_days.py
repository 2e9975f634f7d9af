"""Title settings in one place (issue 14): a programme's public-notice window moves from
``registry.Program.public_notice_days`` to ``titles.TitleSettings.public_notice_days``.

Each programme's value is copied; a programme without title settings whose window is not the
default (30 days) gets a settings row with the default targets and its window. Runs before the
kernel drops the column (``run_before``), so the kernel's migrations never name this app.
Reversible: the window is copied back to the programme.
"""

from django.db import migrations, models

DEFAULT = 30


def copy_to_settings(apps, schema_editor):
    Program = apps.get_model("registry", "Program")
    TitleSettings = apps.get_model("titles", "TitleSettings")
    found = dict(TitleSettings.objects.values_list("program_id", "pk"))
    for program_id, days in Program.objects.values_list("pk", "public_notice_days"):
        if program_id in found:
            TitleSettings.objects.filter(pk=found[program_id]).update(public_notice_days=days)
        elif days != DEFAULT:
            TitleSettings.objects.create(program_id=program_id, public_notice_days=days)


def copy_to_programs(apps, schema_editor):
    Program = apps.get_model("registry", "Program")
    TitleSettings = apps.get_model("titles", "TitleSettings")
    for program_id, days in TitleSettings.objects.values_list("program_id", "public_notice_days"):
        Program.objects.filter(pk=program_id).update(public_notice_days=days)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_outbox"),
        ("titles", "0002_created_by"),
    ]
    run_before = [("registry", "0010_remove_program_public_notice_days")]

    operations = [
        migrations.AddField(
            model_name="titlesettings",
            name="public_notice_days",
            field=models.PositiveSmallIntegerField(
                default=DEFAULT, verbose_name="public notice for titles (days)"
            ),
        ),
        migrations.RunPython(copy_to_settings, copy_to_programs),
    ]
