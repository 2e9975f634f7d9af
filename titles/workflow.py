"""State machine of a land-title file (pure Python, no queries).

A field officer (or an implementer's key) files a ``draft`` for a family's plot and ``submitted``
it once the ID copy, proof of possession and plot plan are attached. The titling authority (its
key with ``titles:write``) or programme staff then record the cadastral survey (``surveyed``,
needs the survey record), the legal qualification (``legal_review``; the file cannot leave
``surveyed`` for it while the plot overlaps another household's plot with a live file or title),
and open the ``public_notice``. An objection filed during the notice moves the file to
``objected`` (only through the objection service); once the window has closed and every
objection is decided, the file goes on to ``title_issued`` (none upheld) or to ``rejected``. The
title is ``sent_to_sunarp``; SUNARP may observe it (``sunarp_observed``, back to
``sent_to_sunarp`` once fixed) or register it (``registered``: partida number and date).

``observed`` waits on the family (reachable from ``submitted``, ``surveyed`` and
``legal_review``; it returns only to the state it came from; the SLA clock pauses). ``rejected``
needs a reason from the code list; ``withdrawn`` (from any non-terminal state) needs a note.
``registered``, ``rejected`` and ``withdrawn`` are terminal.

Parties who may make a move: ``officer`` (the household's field officers and supervisors, or an
implementer's key), ``programme`` (programme staff), ``authority`` (the titling authority the file
is filed with). ``system`` moves are made by a service, never through ``transition/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.workflow import Machine, Move

from .choices import Party, Procedure, TitleDocumentType, TitleStatus

if TYPE_CHECKING:
    from .models import TitleApplication

S = TitleStatus
OFFICER = "officer"
PROGRAMME = "programme"
AUTHORITY = "authority"
ACTOR_PARTIES = (OFFICER, PROGRAMME, AUTHORITY)

FILERS = frozenset({OFFICER, PROGRAMME})
MOVERS = frozenset({PROGRAMME, AUTHORITY})
ANYONE = frozenset({OFFICER, PROGRAMME, AUTHORITY})


# Guards (callables in ``services.TITLE_FLOW``, which has the data): names only here.
ACT_DATE = "act_date"  # the move's act date (``on``): not future, not before the previous act
PROCEDURE = "procedure"  # the plot's tenure is titleable; possession long enough for the procedure
DOCUMENTS = "documents"  # the documents REQUIRED_DOCUMENTS names for the procedure and state
NO_OVERLAP = "no_overlap"  # no overlap with another household's live file or title
NOTICE_CLOSED = "notice_closed"  # the public-notice window has ended
OBJECTIONS_DECIDED = "objections_decided"  # no objection pending
NONE_UPHELD = "none_upheld"  # no objection upheld
BACK_TO_ORIGIN = "back_to_origin"  # ``observed`` returns only where it came from

REJECT = Move(MOVERS, requires=("reason",))
WITHDRAW = Move(FILERS, requires=("note",))
OBSERVE = Move(MOVERS, requires=("note",))
RETURN = Move(ANYONE, guards=(BACK_TO_ORIGIN,))

TITLE_TRANSITIONS: dict[str, dict[str, Move]] = {
    S.DRAFT: {
        S.SUBMITTED: Move(FILERS, guards=(PROCEDURE, DOCUMENTS)),
        S.WITHDRAWN: WITHDRAW,
    },
    S.SUBMITTED: {
        S.SURVEYED: Move(MOVERS, guards=(ACT_DATE, DOCUMENTS)),
        S.OBSERVED: OBSERVE,
        S.REJECTED: REJECT,
        S.WITHDRAWN: WITHDRAW,
    },
    S.SURVEYED: {
        S.LEGAL_REVIEW: Move(MOVERS, guards=(ACT_DATE, NO_OVERLAP)),
        S.OBSERVED: OBSERVE,
        S.REJECTED: REJECT,
        S.WITHDRAWN: WITHDRAW,
    },
    S.LEGAL_REVIEW: {
        S.PUBLIC_NOTICE: Move(MOVERS, guards=(ACT_DATE,)),
        S.OBSERVED: OBSERVE,
        S.REJECTED: REJECT,
        S.WITHDRAWN: WITHDRAW,
    },
    S.OBSERVED: {
        S.SUBMITTED: RETURN,
        S.SURVEYED: RETURN,
        S.LEGAL_REVIEW: RETURN,
        S.REJECTED: REJECT,
        S.WITHDRAWN: WITHDRAW,
    },
    S.PUBLIC_NOTICE: {
        S.OBJECTED: Move(MOVERS, system=True),
        S.TITLE_ISSUED: Move(MOVERS, guards=(ACT_DATE, NOTICE_CLOSED)),
        S.REJECTED: REJECT,
        S.WITHDRAWN: WITHDRAW,
    },
    S.OBJECTED: {
        S.TITLE_ISSUED: Move(
            MOVERS, guards=(ACT_DATE, NOTICE_CLOSED, OBJECTIONS_DECIDED, NONE_UPHELD)
        ),
        S.REJECTED: Move(MOVERS, requires=("reason",), guards=(OBJECTIONS_DECIDED,)),
        S.WITHDRAWN: WITHDRAW,
    },
    S.TITLE_ISSUED: {
        S.SENT_TO_SUNARP: Move(MOVERS, guards=(ACT_DATE,)),
        S.WITHDRAWN: WITHDRAW,
    },
    S.SENT_TO_SUNARP: {
        S.REGISTERED: Move(MOVERS, requires=("partida_number", "registered_on")),
        S.SUNARP_OBSERVED: Move(MOVERS, requires=("note",)),
        S.WITHDRAWN: WITHDRAW,
    },
    S.SUNARP_OBSERVED: {
        S.SENT_TO_SUNARP: Move(MOVERS, guards=(ACT_DATE,)),
        S.WITHDRAWN: WITHDRAW,
    },
    S.REGISTERED: {},
    S.REJECTED: {},
    S.WITHDRAWN: {},
}

TITLE_MACHINE = Machine("title", TITLE_TRANSITIONS, parties=frozenset(ACTOR_PARTIES))

# Documents a file must hold before it may enter a state, by procedure (docs/titles.md,
# "Procedures"): both need the neighbours' statement (constancia de colindantes); prescription
# over private land also needs the cadastral search naming the registered owner.
_FILING_DOCUMENTS = (
    TitleDocumentType.ID_COPY,
    TitleDocumentType.PROOF_OF_POSSESSION,
    TitleDocumentType.PLOT_PLAN,
    TitleDocumentType.NEIGHBOUR_STATEMENT,
)
PROCEDURE_DOCUMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    Procedure.ADJUDICATION: {
        S.SUBMITTED: _FILING_DOCUMENTS,
        S.SURVEYED: (TitleDocumentType.SURVEY_RECORD,),
    },
    Procedure.PRESCRIPTION: {
        S.SUBMITTED: (*_FILING_DOCUMENTS, TitleDocumentType.CADASTRAL_SEARCH),
        S.SURVEYED: (TitleDocumentType.SURVEY_RECORD,),
    },
}
# The documents of the default procedure (adjudication), kept for callers without a file.
REQUIRED_DOCUMENTS = PROCEDURE_DOCUMENTS[Procedure.ADJUDICATION]


def required_documents(procedure: str, state: str) -> tuple[str, ...]:
    """The documents a file of ``procedure`` must hold before it may enter ``state``."""
    return PROCEDURE_DOCUMENTS.get(procedure, REQUIRED_DOCUMENTS).get(state, ())


# Who the file waits on in each state (the SLA clock's split); ``None``: no clock.
STATE_PARTY: dict[str, str | None] = {
    S.DRAFT: Party.PROGRAMME,
    S.SUBMITTED: Party.AUTHORITY,
    S.SURVEYED: Party.AUTHORITY,
    S.LEGAL_REVIEW: Party.AUTHORITY,
    S.PUBLIC_NOTICE: Party.AUTHORITY,
    S.OBJECTED: Party.AUTHORITY,
    S.TITLE_ISSUED: Party.PROGRAMME,
    S.SENT_TO_SUNARP: Party.SUNARP,
    S.SUNARP_OBSERVED: Party.PROGRAMME,
    S.OBSERVED: Party.FAMILY,
    S.REGISTERED: None,
    S.REJECTED: None,
    S.WITHDRAWN: None,
}


def allowed_moves(state: str) -> list[str]:
    """The states reachable from ``state`` through ``transition/``, sorted."""
    return TITLE_MACHINE.allowed(state)


def terminal_states() -> set[str]:
    """States with no way out."""
    return TITLE_MACHINE.terminal_states()


def next_states(application: TitleApplication) -> list[str]:
    """The states this file may move to through ``transition/`` now (``observed`` returns only
    where it came from)."""
    states = allowed_moves(application.status)
    if application.status == S.OBSERVED:
        homes: set[str] = {S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW}
        back = homes - {application.observed_from}
        states = [state for state in states if state not in back]
    return states
