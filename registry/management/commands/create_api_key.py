"""``create_api_key``: issue a key, printed once alone on the last line; only its hash is kept."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.models import Organization
from registry.services import api_key_create

from ._base import split_csv, validation_to_command_error


class Command(BaseCommand):
    help = "Issue an API key for an organization. The key is printed once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="Organization code.")
        parser.add_argument("--scopes", required=True, help="Comma-separated scopes.")
        parser.add_argument("--expires", type=int, default=None, help="Days until it expires.")
        parser.add_argument("--name", default="", help="A label for the key.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(code=options["organization"]).first()
        if organization is None:
            raise CommandError(f"Unknown organization code: {options['organization']}")
        try:
            api_key, raw_key = api_key_create(
                organization=organization,
                scopes=split_csv(options["scopes"]),
                name=options["name"],
                expires_in_days=options["expires"],
            )
        except ValidationError as exc:
            raise validation_to_command_error(exc) from exc
        expiry = api_key.expires_at.isoformat() if api_key.expires_at else "never"
        self.stdout.write(
            f"Key {api_key.prefix} for {organization.code}; scopes {','.join(api_key.scopes)}; "
            f"expires {expiry}. Store it now: it is not shown again."
        )
        self.stdout.write(raw_key)
