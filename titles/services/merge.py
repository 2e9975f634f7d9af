"""Title files follow a family when two registrations of it merge (``farmers.merging``)."""

from __future__ import annotations

from typing import Any

from farmers.merging import move_records
from farmers.models import Household
from registry.actors import Actor

from .. import summaries
from ..models import TitleApplication


def title_files_merge(source: Household, target: Household, actor: Actor) -> dict[str, Any]:
    """Merge handler: every title file of ``source`` (with its status history, objections and
    documents, which hang on the file) moves to ``target``, scoped like it, as a new version
    with a change record. Their plots moved with the household already, so a plot keeps its
    files (one open file per plot holds as before); SLA alerts moved with the household's
    alerts. Called inside the merge's transaction."""
    files = TitleApplication.objects.filter(household=source)
    ids = list(files.select_for_update().order_by("pk").values_list("pk", flat=True))
    # The files' dashboard cells follow them to the target's district and programme.
    with summaries.tracking(ids):
        moved = move_records(files, source, target, actor)
    return {"title_files": moved}
