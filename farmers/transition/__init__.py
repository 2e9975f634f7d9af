"""The transition engine: a family's stage away from coca, computed from dated evidence.

Other apps interact with it through two doors only:

* :func:`farmers.transition.evidence.register_provider` — at start-up (``AppConfig.ready``),
  ``titles`` and ``markets`` register a batch selector that returns dated :class:`Fact` objects
  for a list of household ids. The engine never imports those apps.
* :func:`recompute_on_commit` — any service that changes a household's evidence calls it inside
  its transaction; the recompute is queued once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction


def recompute_on_commit(household_ids: Iterable[Any]) -> None:
    """Queue a stage recompute for ``household_ids`` once the current transaction commits
    (immediately when there is none). Nothing is queued if the transaction rolls back."""
    ids = sorted({str(pk) for pk in household_ids if pk is not None})
    if not ids:
        return

    def send() -> None:
        from farmers.tasks import recompute_households

        recompute_households.delay(ids)

    transaction.on_commit(send)
