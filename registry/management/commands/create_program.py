"""``create_program``: create or update a programme (idempotent on its code)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.services import program_upsert

from ._base import validation_to_command_error


class Command(BaseCommand):
    help = "Create or update a programme; idempotent on --code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--agency", required=True, help="Code of the running organization.")
        parser.add_argument("--funder", default=None, help="Code of the funding organization.")
        parser.add_argument("--budget", default=None, help="Budget in PEN, e.g. 1500000.00")

    def handle(self, *args: Any, **options: Any) -> None:
        budget = None
        if options["budget"] is not None:
            try:
                budget = Decimal(options["budget"])
            except InvalidOperation as exc:
                raise CommandError(f"--budget: not a number: {options['budget']!r}") from exc
        try:
            program, created = program_upsert(
                code=options["code"],
                name=options["name"],
                agency_code=options["agency"],
                funder_code=options["funder"],
                budget_pen=budget,
                channel="command",
            )
        except ValidationError as exc:
            raise validation_to_command_error(exc) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} programme {program.code}.")
