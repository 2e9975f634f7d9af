"""``create_api_key``: issue a key, printed once alone on the last line; only its hash is kept."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
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
        who = parser.add_mutually_exclusive_group()
        who.add_argument(
            "--acts-for",
            default=None,
            metavar="USERNAME",
            help="The person the key acts for (a member of the organization).",
        )
        who.add_argument(
            "--service",
            default="",
            metavar="NAME",
            help="The automation that uses the key (when it acts for nobody).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(code=options["organization"]).first()
        if organization is None:
            raise CommandError(f"Unknown organization code: {options['organization']}")
        person = None
        if options["acts_for"]:
            person = get_user_model().objects.filter(username=options["acts_for"]).first()
            if person is None:
                raise CommandError(f"Unknown username: {options['acts_for']}")
        try:
            api_key, raw_key = api_key_create(
                organization=organization,
                scopes=split_csv(options["scopes"]),
                name=options["name"],
                expires_in_days=options["expires"],
                acts_for_user=person,
                service=options["service"],
            )
        except ValidationError as exc:
            raise validation_to_command_error(exc) from exc
        expiry = api_key.expires_at.isoformat() if api_key.expires_at else "never"
        acts_for = (
            f"acts for {person.get_username()}"
            if person is not None
            else f"automation{f' {api_key.service}' if api_key.service else ''}"
        )
        self.stdout.write(
            f"Key {api_key.prefix} for {organization.code} ({acts_for}); scopes "
            f"{','.join(api_key.scopes)}; expires {expiry}. Store it now: it is not shown again."
        )
        self.stdout.write(raw_key)
