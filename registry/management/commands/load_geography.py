"""``load_geography``: refresh departments, provinces, districts and VRAEM flags (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from registry.geography import load_geography
from registry.models import Department, District, Province


class Command(BaseCommand):
    help = "Load or refresh INEI geography from the shipped table (also done by migrations)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_geography(Department, Province, District)
        vraem = District.objects.filter(is_vraem=True).count()
        self.stdout.write(f"{count} districts loaded, {vraem} in the VRAEM.")
