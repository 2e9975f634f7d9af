from django.db import migrations, models

import registry.choices
import registry.models.organizations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0012_program_visit_photo_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="program",
            name="licit_crops",
            field=models.JSONField(
                blank=True,
                default=registry.choices.licit_crops_default,
                help_text=(
                    "Only these crops count towards a family's licit hectares; visits may record "
                    "others (stored and shown, not counted)."
                ),
                validators=[registry.models.organizations.validate_licit_crops],
                verbose_name="licit crops",
            ),
        ),
    ]
