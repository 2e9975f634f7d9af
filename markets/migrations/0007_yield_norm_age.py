"""Yield norms by plantation age and zone, and harvest calendars (issue 16, point 2).

The default ages (approximate, for smallholdings; programme staff tune them in the admin):

* cacao: first harvest in the 3rd year, full production from the 5th (grafted clones such as
  CCN-51 bear earlier, seedlings later; INIA / DEVIDA technical guides give 2–4 and 5–6);
* coffee: first harvest in the 2nd year after planting, full from the 4th (MIDAGRI / JNC);
* citrus: 3 and 6; pineapple and banana / plantain bear within the first year or so: 1 and 1.

Existing norms keep their figure as the mature (full) norm. No calendar is loaded: a crop with
no calendar is expected evenly over the year, as before.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


AGES = {"cacao": (3, 5), "coffee": (2, 4), "citrus": (3, 6), "pineapple": (1, 1), "banana": (1, 1)}


def set_default_ages(apps, schema_editor):
    YieldNorm = apps.get_model("markets", "YieldNorm")
    for crop, (bearing, full) in AGES.items():
        YieldNorm.objects.filter(crop=crop).update(bearing_from_years=bearing, full_from_years=full)


class Migration(migrations.Migration):
    dependencies = [
        ("markets", "0006_money_as_agreed"),
        ("registry", "0013_program_licit_crops"),
    ]

    operations = [
        migrations.CreateModel(
            name="HarvestCalendar",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "crop",
                    models.CharField(
                        choices=[
                            ("cacao", "Cacao"),
                            ("coffee", "Coffee"),
                            ("pineapple", "Pineapple"),
                            ("banana", "Banana / plantain"),
                            ("citrus", "Citrus"),
                            ("achiote", "Achiote"),
                            ("palm_heart", "Palm heart"),
                            ("food_crops", "Food crops"),
                            ("timber", "Timber / agroforestry"),
                            ("other", "Other"),
                        ],
                        max_length=16,
                        verbose_name="crop",
                    ),
                ),
                ("months", models.JSONField(default=list, verbose_name="harvest months")),
                ("source", models.CharField(blank=True, max_length=300, verbose_name="source")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
            ],
            options={
                "verbose_name": "harvest calendar",
                "verbose_name_plural": "harvest calendars",
                "ordering": ["crop", "department"],
            },
        ),
        migrations.AlterModelOptions(
            name="yieldnorm",
            options={
                "ordering": ["crop", "product_form", "department"],
                "verbose_name": "yield norm",
                "verbose_name_plural": "yield norms",
            },
        ),
        migrations.RemoveConstraint(
            model_name="yieldnorm",
            name="yield_norm_unique",
        ),
        migrations.AddField(
            model_name="yieldnorm",
            name="bearing_from_years",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Years after planting before the first harvest (nothing expected before).",
                validators=[django.core.validators.MaxValueValidator(30)],
                verbose_name="first harvest at age (years)",
            ),
        ),
        migrations.AddField(
            model_name="yieldnorm",
            name="department",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: every department without a norm of its own.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.department",
                verbose_name="zone (department)",
            ),
        ),
        migrations.AddField(
            model_name="yieldnorm",
            name="full_from_years",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Years after planting when the stand yields the full norm.",
                validators=[django.core.validators.MaxValueValidator(30)],
                verbose_name="full production at age (years)",
            ),
        ),
        migrations.AddConstraint(
            model_name="yieldnorm",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", True)),
                fields=("crop", "product_form"),
                name="yield_norm_unique",
                violation_error_message="There is already a norm for this crop and form.",
            ),
        ),
        migrations.AddConstraint(
            model_name="yieldnorm",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", False)),
                fields=("crop", "product_form", "department"),
                name="yield_norm_zone_unique",
                violation_error_message="There is already a norm for this crop, form and department.",
            ),
        ),
        migrations.AddConstraint(
            model_name="yieldnorm",
            constraint=models.CheckConstraint(
                condition=models.Q(("full_from_years__gte", models.F("bearing_from_years"))),
                name="yield_norm_ages_ordered",
                violation_error_message="Full production cannot come before the first harvest.",
            ),
        ),
        migrations.AddField(
            model_name="harvestcalendar",
            name="department",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: every department without a calendar of its own.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.department",
                verbose_name="zone (department)",
            ),
        ),
        migrations.AddConstraint(
            model_name="harvestcalendar",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", True)),
                fields=("crop",),
                name="harvest_calendar_unique",
                violation_error_message="There is already a calendar for this crop.",
            ),
        ),
        migrations.AddConstraint(
            model_name="harvestcalendar",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", False)),
                fields=("crop", "department"),
                name="harvest_calendar_zone_unique",
                violation_error_message="There is already a calendar for this crop and department.",
            ),
        ),
        migrations.RunPython(set_default_ages, migrations.RunPython.noop),
    ]
