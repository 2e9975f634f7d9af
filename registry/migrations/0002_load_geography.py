"""Load every INEI department, province and district and flag the VRAEM (see registry.geography)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from registry.geography import load_geography

    load_geography(
        apps.get_model("registry", "Department"),
        apps.get_model("registry", "Province"),
        apps.get_model("registry", "District"),
    )


def backwards(apps, schema_editor):
    apps.get_model("registry", "District").objects.all().delete()
    apps.get_model("registry", "Province").objects.all().delete()
    apps.get_model("registry", "Department").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
