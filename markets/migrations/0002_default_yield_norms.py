"""Default yield norms (kg per hectare and season) for the side-selling check.

Programme-editable defaults, deliberately conservative (a family falling well below them is a
signal for a field visit, never a verdict). Sources, read as orders of magnitude:

* Cacao, dry fermented bean: Peru's average is about 800–900 kg/ha/year (MIDAGRI, Observatorio
  de Commodities: Cacao, 2023); VRAEM smallholdings yield less, about 500–800 kg/ha/year
  (DEVIDA alternative-development monitoring). Default 600.
* Cacao, wet bean (en baba): dry bean is about 35–40 % of the wet weight after fermentation and
  drying, so 600 kg dry ≈ 1,600 kg wet.
* Coffee, parchment (pergamino): about 800–1,000 kg/ha/year in well-managed plots (≈ 17–22
  quintales of 46 kg; MIDAGRI / Junta Nacional del Café); default 800. Green (oro verde) is
  about 80 % of parchment by weight: 640. Cherry: about 5 kg of cherry per kg of parchment: 4,000.
* Pineapple, banana/plantain, citrus (fresh): Peru's averages per MIDAGRI's agricultural
  statistics (SIEA) are roughly 35, 13 and 15 t/ha/year; defaults below those.
"""

from decimal import Decimal

from django.db import migrations

NORMS = [
    ("cacao", "cacao_dry", "600", "MIDAGRI/DEVIDA, VRAEM smallholdings 500–800 kg/ha/yr"),
    ("cacao", "cacao_wet", "1600", "≈ dry bean ÷ 0.375 (fermentation and drying losses)"),
    ("coffee", "coffee_parchment", "800", "MIDAGRI / JNC: 800–1,000 kg/ha/yr parchment"),
    ("coffee", "coffee_green", "640", "≈ 80 % of parchment weight"),
    ("coffee", "coffee_cherry", "4000", "≈ 5 kg cherry per kg parchment"),
    ("pineapple", "fresh", "30000", "MIDAGRI SIEA national average ≈ 35 t/ha/yr"),
    ("banana", "fresh", "10000", "MIDAGRI SIEA national average ≈ 13 t/ha/yr"),
    ("citrus", "fresh", "12000", "MIDAGRI SIEA national average ≈ 15 t/ha/yr"),
]


def add_norms(apps, schema_editor):
    YieldNorm = apps.get_model("markets", "YieldNorm")
    for crop, form, kg, source in NORMS:
        YieldNorm.objects.get_or_create(
            crop=crop,
            product_form=form,
            defaults={"kg_per_ha_per_season": Decimal(kg), "source": f"Default: {source}"},
        )


def remove_norms(apps, schema_editor):
    YieldNorm = apps.get_model("markets", "YieldNorm")
    for crop, form, _kg, source in NORMS:
        YieldNorm.objects.filter(
            crop=crop, product_form=form, source=f"Default: {source}"
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("markets", "0001_initial")]

    operations = [migrations.RunPython(add_norms, remove_norms)]
