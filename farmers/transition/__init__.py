"""The transition engine: a family's stage away from coca, computed from dated evidence.

Other apps interact with it through two doors only:

* :func:`farmers.transition.evidence.register_provider` — at start-up (``AppConfig.ready``),
  ``titles`` and ``markets`` register a batch selector that returns dated :class:`Fact` objects
  for a list of household ids. The engine never imports those apps.
* :func:`recompute_on_commit` — any service that changes a household's evidence calls it inside
  its transaction; it writes a message to the transactional outbox (``registry.outbox``) in that
  transaction and the recompute is queued once the transaction commits. When the broker is down
  the message waits in the outbox and the relay queues it later: a recompute is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: The outbox topic of a stage recompute; payload ``{"household_ids": [...]}``.
RECOMPUTE_TOPIC = "transition.recompute"
RECOMPUTE_TASK = "farmers.tasks.recompute_households"


def recompute_on_commit(household_ids: Iterable[Any]) -> None:
    """Queue a stage recompute for ``household_ids`` once the current transaction commits
    (immediately when there is none), through the outbox: one row written in the transaction,
    handed to Celery after commit, relayed later if the broker is down. Nothing is queued if the
    transaction rolls back. The recompute is idempotent, so a message sent twice is harmless."""
    ids = sorted({str(pk) for pk in household_ids if pk is not None})
    if not ids:
        return
    from registry import outbox

    outbox.publish_on_commit(RECOMPUTE_TOPIC, {"household_ids": ids})
