"""State machines of the farmers app (pure Python, no queries).

Household review: a new registration waits in ``pending_review``; a reviewer (supervisor,
programme staff, or a key with ``households:review``) makes it ``active`` or ``rejected`` (with
a reason); approval needs a consent on record (guard ``consent_on_record``). An active
household may become ``inactive``. ``merged`` is reached only through the
merge service. ``rejected``, ``inactive`` and ``merged`` are terminal for the API.

Verification visit: a field officer records it ``pending``; a reviewer ``confirmed`` or
``rejected`` it. Both outcomes are terminal. A visit that found no coca is confirmed only with a
plausible GPS fix and (unless the programme waives it) a photo (guard ``visit_evidence``).

Eradication record: a voluntary (self-)eradication is recorded ``pending`` and a second person
(a reviewer) makes it ``verified`` or ``rejected`` (with a reason); a forced eradication (CORAH)
recorded by a reviewer is ``verified`` on creation (``policies.eradication_verified_on_record``).
Both outcomes are terminal.

Crop installation: recorded ``installed``; whoever may write the household's records (a field
officer, a key with ``households:write``) marks it ``producing`` or ``lost`` (with a reason); a
producing installation may be ``lost``. ``lost`` is terminal.

Whoever registered a household, recorded a visit or an eradication may not review it
(maker–checker).

Data-subject request (Law 29733): ``received``; programme staff take it ``in_progress``, extend it
once (``extended``, with a reason: the deadline moves), and ``answered`` it (a rectification,
cancellation or opposition is applied then, guard ``person_present``: not about a person whose
data was cancelled) or ``refused`` it with a reason. Both outcomes are terminal.
Exclusion proposal: the engine opens it ``proposed`` when a household relapses the programme's
``relapses_before_exclusion``-th time (the household stays ``relapsed``); programme staff of the
programme's agency ``confirmed`` it (the household becomes ``excluded``) or ``dismissed`` it
(with a note). Both outcomes are terminal.

Appeal: the family appeals its relapse or an exclusion (``filed``); programme staff decide it
``upheld`` or ``rejected``, with a decision note. Both outcomes are terminal.
"""

from __future__ import annotations

from registry.choices import Scope
from registry.workflow import Machine, Move

from .choices import (
    AppealStatus,
    CorrectionStatus,
    EradicationStatus,
    ExclusionStatus,
    HouseholdStatus,
    InstallationStatus,
    RequestStatus,
    VerificationStatus,
)

# The one party: a reviewer (supervisor, programme staff, or a key with ``households:review``)
# whose area covers the household; each move's ``scope`` is what the reviewer needs.
REVIEWER = "reviewer"
PARTIES = frozenset({REVIEWER})

# Guards (callables in ``services.HOUSEHOLD_FLOW`` / ``VERIFICATION_FLOW``): names only here.
MAKER_CHECKER = "maker_checker"  # whoever made the record may not review it
# A visit that found no coca needs a plausible GPS fix and (unless waived) a photo
# (``farmers.evidence.visit_evidence_guard``).
VISIT_EVIDENCE = "visit_evidence"
# Approving a registration needs the family's consent on record (issue 19).
CONSENT_ON_RECORD = "consent_on_record"


def _review(*requires: str, maker_checker: bool = True, guards: tuple[str, ...] = ()) -> Move:
    return Move(
        PARTIES,
        scope=Scope.HOUSEHOLDS_REVIEW,
        requires=requires,
        guards=((MAKER_CHECKER,) if maker_checker else ()) + guards,
    )


HOUSEHOLD_TRANSITIONS: dict[str, dict[str, Move]] = {
    HouseholdStatus.PENDING_REVIEW: {
        HouseholdStatus.ACTIVE: _review(guards=(CONSENT_ON_RECORD,)),
        HouseholdStatus.REJECTED: _review("reason"),
    },
    HouseholdStatus.ACTIVE: {
        HouseholdStatus.INACTIVE: _review("reason", maker_checker=False),
    },
    HouseholdStatus.REJECTED: {},
    HouseholdStatus.INACTIVE: {},
    HouseholdStatus.MERGED: {},
}

VERIFICATION_TRANSITIONS: dict[str, dict[str, Move]] = {
    VerificationStatus.PENDING: {
        VerificationStatus.CONFIRMED: _review(guards=(VISIT_EVIDENCE,)),
        VerificationStatus.REJECTED: _review("reason"),
    },
    VerificationStatus.CONFIRMED: {},
    VerificationStatus.REJECTED: {},
}

ERADICATION_TRANSITIONS: dict[str, dict[str, Move]] = {
    EradicationStatus.PENDING: {
        EradicationStatus.VERIFIED: _review(),
        EradicationStatus.REJECTED: _review("reason"),
    },
    EradicationStatus.VERIFIED: {},
    EradicationStatus.REJECTED: {},
}

# Crop installations: whoever may write the household's records (``policies.household_can``
# with ``write``) records how the installation fares.
WRITER = "writer"
_WRITERS = frozenset({WRITER})
INSTALLATION_TRANSITIONS: dict[str, dict[str, Move]] = {
    InstallationStatus.INSTALLED: {
        InstallationStatus.PRODUCING: Move(_WRITERS, scope=Scope.HOUSEHOLDS_WRITE),
        InstallationStatus.LOST: Move(_WRITERS, scope=Scope.HOUSEHOLDS_WRITE, requires=("reason",)),
    },
    InstallationStatus.PRODUCING: {
        InstallationStatus.LOST: Move(_WRITERS, scope=Scope.HOUSEHOLDS_WRITE, requires=("reason",)),
    },
    InstallationStatus.LOST: {},
}
INSTALLATION_MACHINE = Machine("crop installation", INSTALLATION_TRANSITIONS, parties=_WRITERS)

# Decisions about people (exclusions, appeals): programme staff of the programme's agency
# (``policies.is_programme_staff``).
PROGRAMME_STAFF = "programme_staff"

EXCLUSION_TRANSITIONS: dict[str, dict[str, Move]] = {
    ExclusionStatus.PROPOSED: {
        ExclusionStatus.CONFIRMED: Move(frozenset({PROGRAMME_STAFF}), scope=Scope.COCA_READ),
        ExclusionStatus.DISMISSED: Move(
            frozenset({PROGRAMME_STAFF}), scope=Scope.COCA_READ, requires=("note",)
        ),
    },
    ExclusionStatus.CONFIRMED: {},
    ExclusionStatus.DISMISSED: {},
}

_STAFF = frozenset({PROGRAMME_STAFF})
APPEAL_TRANSITIONS: dict[str, dict[str, Move]] = {
    AppealStatus.FILED: {
        AppealStatus.UPHELD: Move(_STAFF, scope=Scope.COCA_READ, requires=("note",)),
        AppealStatus.REJECTED: Move(_STAFF, scope=Scope.COCA_READ, requires=("note",)),
    },
    AppealStatus.UPHELD: {},
    AppealStatus.REJECTED: {},
}
APPEAL_MACHINE = Machine("appeal", APPEAL_TRANSITIONS, parties=_STAFF)

EXCLUSION_MACHINE = Machine(
    "exclusion proposal", EXCLUSION_TRANSITIONS, parties=frozenset({PROGRAMME_STAFF})
)
# A correction of a confirmed visit: a second person (a reviewer, not who proposed it) approves
# it (then it is applied to the visit) or rejects it with a reason.
CORRECTION_TRANSITIONS: dict[str, dict[str, Move]] = {
    CorrectionStatus.PROPOSED: {
        CorrectionStatus.APPROVED: _review(),
        CorrectionStatus.REJECTED: _review("reason"),
    },
    CorrectionStatus.APPROVED: {},
    CorrectionStatus.REJECTED: {},
}
CORRECTION_MACHINE = Machine("visit correction", CORRECTION_TRANSITIONS, parties=PARTIES)

# A data-subject request is about a person whose data was not cancelled (erased) already.
PERSON_PRESENT = "person_present"
_DSR = Scope.HOUSEHOLDS_WRITE
_ANSWER = Move(_STAFF, scope=_DSR, guards=(PERSON_PRESENT,))
_REFUSE = Move(_STAFF, scope=_DSR, requires=("reason",))
_EXTEND = Move(_STAFF, scope=_DSR, requires=("reason",))
REQUEST_TRANSITIONS: dict[str, dict[str, Move]] = {
    RequestStatus.RECEIVED: {
        RequestStatus.IN_PROGRESS: Move(_STAFF, scope=_DSR),
        RequestStatus.EXTENDED: _EXTEND,
        RequestStatus.ANSWERED: _ANSWER,
        RequestStatus.REFUSED: _REFUSE,
    },
    RequestStatus.IN_PROGRESS: {
        RequestStatus.EXTENDED: _EXTEND,
        RequestStatus.ANSWERED: _ANSWER,
        RequestStatus.REFUSED: _REFUSE,
    },
    # Extended once: no way back to another extension.
    RequestStatus.EXTENDED: {RequestStatus.ANSWERED: _ANSWER, RequestStatus.REFUSED: _REFUSE},
    RequestStatus.ANSWERED: {},
    RequestStatus.REFUSED: {},
}
REQUEST_MACHINE = Machine("data-subject request", REQUEST_TRANSITIONS, parties=_STAFF)

HOUSEHOLD_MACHINE = Machine("household review", HOUSEHOLD_TRANSITIONS, parties=PARTIES)
VERIFICATION_MACHINE = Machine("visit review", VERIFICATION_TRANSITIONS, parties=PARTIES)
ERADICATION_MACHINE = Machine("eradication verification", ERADICATION_TRANSITIONS, parties=PARTIES)


def allowed_moves(table: dict[str, dict[str, Move]], state: str) -> list[str]:
    """The states reachable from ``state``, sorted."""
    return sorted(t for t, move in table.get(state, {}).items() if not move.system)


def terminal_states(table: dict[str, dict[str, Move]]) -> set[str]:
    """States with no way out."""
    return {state for state, moves in table.items() if not moves}
