"""``rotate_identifier_keys``: re-encrypt the members' ID numbers and phones under the first key
of ``IDENTIFIER_ENCRYPTION_KEYS`` (chunked, resumable, progress printed); ``--reindex`` also
recomputes the blind indexes after a new ``IDENTIFIER_INDEX_KEY``. See docs/data-protection.md,
"Rotating the keys". The body is ``farmers.services.identifiers.identifiers_rotate``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from farmers.services.identifiers import DEFAULT_CHUNK, identifiers_rotate


class Command(BaseCommand):
    help = "Re-encrypt national IDs and phones under the current identifier key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="Recompute every blind index too (after changing IDENTIFIER_INDEX_KEY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be positive.")
        outcome = identifiers_rotate(
            chunk_size=options["chunk_size"], reindex=options["reindex"], write=self.stdout.write
        )
        self.stdout.write(
            f"Done: {outcome.members:,} members re-encrypted, {outcome.phone_keys:,} phone "
            f"blocking keys rebuilt in {outcome.seconds:.1f} s."
        )
