"""Writes of the titles app, by sub-domain: filing a title application (``filing``), moving it
through its workflow with the SLA clock (``transitions``, ``titles.clock``), the legal
procedure's checks (``procedure``: tenure, years of possession), objections during
the public notice (``objections``), documents (``documents``) and the programme's title settings
(``title_settings``), moving a family's files when it is merged (``merge``); the SLA alerts
are ``titles.sla``. Who may do what is ``titles.policies``.
Every write runs in a transaction and leaves its history in it.

``from titles import services; services.title_application_create(...)`` keeps working: the
public service functions are re-exported here.
"""

from __future__ import annotations

from ..clock import recompute_clock, settings_for
from ..sla import title_alerts_sync
from ..workflow import next_states
from .documents import DOCUMENT_CONTENT_TYPES, DOCUMENT_MAX_BYTES, document_upload
from .filing import title_application_create, title_application_file
from .merge import title_files_merge
from .objections import objection_decide, objection_file
from .procedure import check_possession, check_tenure
from .title_settings import authority_notice_days_save, title_settings_save
from .transitions import (
    CLOSED_STATUSES,
    EVIDENCE_MOVES,
    TITLE_FLOW,
    locked_application,
    overlap_conflicts,
    title_application_transition,
)

__all__ = [
    "CLOSED_STATUSES",
    "DOCUMENT_CONTENT_TYPES",
    "DOCUMENT_MAX_BYTES",
    "EVIDENCE_MOVES",
    "TITLE_FLOW",
    "authority_notice_days_save",
    "check_possession",
    "check_tenure",
    "document_upload",
    "locked_application",
    "next_states",
    "objection_decide",
    "objection_file",
    "overlap_conflicts",
    "recompute_clock",
    "settings_for",
    "title_alerts_sync",
    "title_application_create",
    "title_application_file",
    "title_application_transition",
    "title_files_merge",
    "title_settings_save",
]
