"""``create_organization``: create or update an organization (idempotent on its code)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from registry.choices import OrganizationKind
from registry.services import organization_upsert

from ._base import split_csv, validation_to_command_error


class Command(BaseCommand):
    help = "Create or update an organization; idempotent on --code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True)
        parser.add_argument("--kind", required=True, choices=OrganizationKind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--districts", default=None, help="Comma-separated ubigeos.")
        parser.add_argument("--ruc", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization, created = organization_upsert(
                code=options["code"],
                kind=options["kind"],
                name=options["name"],
                ruc=options["ruc"],
                district_ubigeos=(
                    split_csv(options["districts"]) if options["districts"] is not None else None
                ),
                channel="command",
            )
        except ValidationError as exc:
            raise validation_to_command_error(exc) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} organization {organization.code} ({organization.kind}).")
