"""Stage rules (DESIGN.md §6): a household's stage as a pure function of its dated evidence.

``compute(evidence, today, thresholds)`` touches no database and no clock: the same evidence,
day and thresholds always give the same :class:`Result`, whatever order the evidence came in.
Evidence dated after ``today`` is ignored.

The ladder is cumulative: a household is at the highest stage whose criteria, and all below it,
hold (``enrolled → committed → coca_free → licit_production → market_linked → graduated``).
Off the ladder:

* **relapse** — a confirmed visit finding coca after the household had reached ``coca_free``
  moves it to ``relapsed``; it comes back only through a new agreement signed after the relapse
  followed by a new coca-free visit. The ``relapses_before_exclusion``-th relapse *proposes*
  an exclusion (the household stays ``relapsed``, held back by ``exclusion_proposed``); it
  becomes ``excluded`` (final) only once programme staff confirm that proposal (an
  ``exclusion_confirmed`` fact whose ``ref`` is the relapse's day); a dismissed proposal
  (``exclusion_dismissed``, also what an upheld appeal of the exclusion gives) leaves an
  ordinary relapse. A relapse whose appeal programme staff upheld (``relapse_overturned``,
  ``ref`` = its day) does not count: the stage it interrupted comes back.
* **expiry** — a coca-free visit is valid for ``coca_free_max_age_months``; a market link for
  ``market_window_months`` after the last accepted delivery. When evidence expires the stage
  drops, with ``visit_expired`` / ``market_link_lapsed`` as the reason.

``milestones`` maps each criterion that holds today to the date it was met: derived from the
evidence only, so reruns on later days do not rewrite them while nothing changes. Enrolment
(``registered_on``) is the consent's date, or an earlier one an import gives, never the record's
creation time (that counts only for a household without consent). No milestone precedes
enrolment and no rung precedes the one below it: evidence dated before enrolment is clamped to
the enrolment day, not ignored (see ``_in_time_order``).

**Tenure** is a track of its own, not a rung (a family sells its cacao long before SUNARP
registers its title; families on community land may never hold one): ``milestones["tenure"]``
is the day the family first held secure tenure — a ``title_registered`` fact, or a
``tenure_accepted`` fact (the extension point for other tenure the programme accepts, e.g. a
titled community whose land holds the plot) — never before enrolment. It gates graduation only
when the programme sets ``graduation_requires_tenure``.

The pieces live beside this module: the stages, reasons, thresholds and dataclasses in
:mod:`~farmers.transition.facts`, time order and the ledger summary in
:mod:`~farmers.transition.ordering`, eradication progress in
:mod:`~farmers.transition.eradication_rules`; all are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from registry.dates import add_months

from .eradication_rules import (
    _first_coca_free,
    agreement_progress,
)
from .evidence import (
    CONTRACT_ACTIVE,
    DELIVERY_ACCEPTED,
    EXCLUSION_CONFIRMED,
    EXCLUSION_DISMISSED,
    RELAPSE_OVERTURNED,
    TENURE_FACT_KINDS,
    TITLE_APPLIED,
    TITLE_REGISTERED,
    Fact,
)
from .facts import (
    COCA_FREE,
    COMMITTED,
    ENROLLED,
    EXCLUDED,
    EXPIRY_REASONS,
    GRADUATED,
    LADDER,
    LICIT_PRODUCTION,
    MARKET_LINKED,
    RANK,
    RELAPSED,
    TENURE,
    ZERO,
    AlertWanted,
    Eradication,
    HouseholdEvidence,
    Reason,
    Result,
    Thresholds,
    Visit,
    licit_hectares,
)
from .ordering import (
    _cutoffs,
    _in_time_order,
    _summary,
    _until,
    _visits_until,
)


def compute(evidence: HouseholdEvidence, today: date, thresholds: Thresholds) -> Result:
    """The stage of one household on ``today`` under ``thresholds`` (DESIGN.md §6), with its
    milestones in time order and none before enrolment (see :func:`_in_time_order`); verified
    eradications through :func:`_with_eradications`."""
    if evidence.eradications:
        return _with_eradications(evidence, today, thresholds)
    result = _compute(evidence, today, thresholds)
    if len(result.milestones) > 1 or result.since < evidence.registered_on:
        return _in_time_order(result, evidence.registered_on, today)
    return result


def _compute(evidence: HouseholdEvidence, today: date, thresholds: Thresholds) -> Result:
    """The rules themselves (``compute`` puts the milestones in time order)."""
    visit_cutoff, market_cutoff, due_cutoff = _cutoffs(today, thresholds)
    hid = evidence.household_id
    agreements = _until(evidence.agreements, today)
    visits = _visits_until(evidence.visits, today)
    milestones: dict[str, str] = {ENROLLED: evidence.registered_on.isoformat()}

    if not evidence.active or not evidence.consent:
        reason = Reason.NOT_ACTIVE if not evidence.active else Reason.NO_CONSENT
        since = evidence.registered_on if evidence.active else today
        return Result(ENROLLED, min(since, today), Reason.REGISTERED, reason, milestones, {}, ())
    facts = [f for f in evidence.facts if f.on <= today] if evidence.facts else []
    tenure_on = tenure_since(facts, evidence.registered_on) if facts else None
    if tenure_on is not None:
        milestones[TENURE] = tenure_on.isoformat()
    if facts:
        visits = _without_overturned(visits, facts)

    # Walk the visits in time: relapses, readmission, exclusion.
    relapses = 0
    relapsed_on: date | None = None
    excluded_on: date | None = None
    proposed_on: date | None = None  # an exclusion proposed, awaiting staff's decision
    reached = False
    era_start: date | None = None  # the agreement that opened the current era
    era_visit_index = 0  # visits before this index belong to earlier eras
    next_agreement = 0
    for index, visit in enumerate(visits):
        if visit.coca_ha > ZERO:
            if reached and relapsed_on is None:
                relapses += 1
                relapsed_on = visit.on
                reached = False
                if relapses >= thresholds.relapses_before_exclusion:
                    decision = _exclusion_decision(facts, visit.on)
                    if decision is not None and decision.kind == EXCLUSION_CONFIRMED:
                        excluded_on = max(decision.on, visit.on)
                        break
                    if decision is None:
                        proposed_on = visit.on
            continue
        if relapsed_on is not None:
            readmission = next((a for a in agreements if relapsed_on < a <= visit.on), None)
            if readmission is None:
                continue
            relapsed_on = None
            era_start = readmission
            era_visit_index = index
            reached = True
            continue
        if not reached:
            while next_agreement < len(agreements) and agreements[next_agreement] <= visit.on:
                next_agreement += 1
            if next_agreement:
                reached = True
                if era_start is None:
                    era_start = agreements[0]

    summary = _summary(visits, agreements, relapses)
    if excluded_on is not None:
        milestones[EXCLUDED] = excluded_on.isoformat()
        return Result(
            EXCLUDED,
            excluded_on,
            Reason.EXCLUDED,
            Reason.EXCLUDED,
            milestones,
            summary,
            (AlertWanted("relapse", f"relapse:{hid}:{excluded_on}", None, "critical"),),
        )
    if relapsed_on is not None:
        milestones[RELAPSED] = relapsed_on.isoformat()
        return Result(
            RELAPSED,
            relapsed_on,
            Reason.RELAPSE,
            Reason.EXCLUSION_PROPOSED if proposed_on == relapsed_on else Reason.RELAPSE,
            milestones,
            summary,
            (AlertWanted("relapse", f"relapse:{hid}:{relapsed_on}", None, "critical"),),
        )

    alerts: list[AlertWanted] = []
    # committed: a signed agreement (after a relapse: the readmission agreement).
    if era_start is None and agreements:
        era_start = agreements[0]
    if era_start is None:
        return Result(
            ENROLLED,
            evidence.registered_on,
            Reason.REGISTERED,
            Reason.NO_AGREEMENT,
            milestones,
            summary,
            (),
        )
    committed_on = era_start
    milestones[COMMITTED] = committed_on.isoformat()
    stage, since, reason = COMMITTED, committed_on, Reason.AGREEMENT_SIGNED
    era_visits = [v for v in visits[era_visit_index:] if v.on >= committed_on]

    def result(held_back: str, drop_on: date | None = None) -> Result:
        start = since if drop_on is None else max(since, drop_on)
        return Result(
            stage,
            min(start, today),
            reason,
            held_back,
            milestones,
            summary,
            tuple(alerts),
        )

    # Visit due: the latest visit (or, with none yet, the agreement) is getting old.
    latest_basis = visits[-1].on if visits else committed_on
    if latest_basis <= due_cutoff:
        alerts.append(
            AlertWanted(
                "visit_due",
                f"visit_due:{hid}:{latest_basis}",
                add_months(latest_basis, thresholds.coca_free_max_age_months),
            )
        )

    # coca_free: the latest visit found no coca, is recent enough, and follows the agreement.
    if not era_visits:
        return result(Reason.NO_VISIT)
    latest = visits[-1]
    if latest.coca_ha > ZERO:
        return result(Reason.COCA_FOUND)
    run_start_index = len(era_visits) - 1
    while run_start_index > 0:
        previous = era_visits[run_start_index - 1]
        current = era_visits[run_start_index]
        if previous.coca_ha > ZERO or add_months(
            previous.on, thresholds.coca_free_max_age_months
        ) < (current.on):
            break
        run_start_index -= 1
    run = era_visits[run_start_index:]
    if latest.on < visit_cutoff:
        expired_on = add_months(latest.on, thresholds.coca_free_max_age_months)
        alerts.append(AlertWanted("evidence_expiry", f"evidence_expiry:{hid}:visit:{expired_on}"))
        return result(Reason.VISIT_EXPIRED, expired_on)
    coca_free_on = run[0].on
    milestones[COCA_FREE] = coca_free_on.isoformat()
    stage, since, reason = COCA_FREE, max(since, coca_free_on), Reason.COCA_FREE_VISIT

    # licit_production: the latest visits confirm licit crops of at least the minimum.
    licit_index = len(run)
    while licit_index > 0 and run[licit_index - 1].licit_ha >= thresholds.licit_min_ha:
        licit_index -= 1
    if licit_index == len(run):
        had_licit = any(v.licit_ha >= thresholds.licit_min_ha for v in run[:-1])
        return result(Reason.LICIT_BELOW_MINIMUM, latest.on if had_licit else None)
    licit_on = run[licit_index].on
    milestones[LICIT_PRODUCTION] = licit_on.isoformat()
    stage, since, reason = LICIT_PRODUCTION, max(since, licit_on), Reason.LICIT_CONFIRMED

    # Every accepted delivery counts, whatever its contract's status now: suspending or
    # terminating a contract later does not erase the market link its deliveries made.
    deliveries = sorted(
        (f for f in facts if f.kind == DELIVERY_ACCEPTED), key=lambda f: (f.on, f.ref)
    )
    summary["titles_registered"] = sum(1 for f in facts if f.kind == TITLE_REGISTERED)
    if deliveries:
        summary["last_delivery_on"] = deliveries[-1].on.isoformat()

    # market_linked: an accepted delivery within the market window.
    if not deliveries:
        return result(Reason.NO_DELIVERY)
    if deliveries[-1].on < market_cutoff:
        lapsed_on = add_months(deliveries[-1].on, thresholds.market_window_months)
        alerts.append(AlertWanted("evidence_expiry", f"evidence_expiry:{hid}:market:{lapsed_on}"))
        return result(Reason.MARKET_LINK_LAPSED, lapsed_on)
    chain_start = len(deliveries) - 1
    while chain_start > 0 and add_months(
        deliveries[chain_start - 1].on, thresholds.market_window_months
    ) >= (deliveries[chain_start].on):
        chain_start -= 1
    chain = deliveries[chain_start:]
    linked_on = chain[0].on
    milestones[MARKET_LINKED] = linked_on.isoformat()
    stage, since, reason = MARKET_LINKED, max(since, linked_on), Reason.DELIVERY_ACCEPTED

    # graduated: coca-free long enough (two visits 12+ months apart) and enough income.
    income = sum((f.value_pen or ZERO for f in deliveries if f.on >= market_cutoff), ZERO)
    summary["income_window_pen"] = str(income)
    graduation_on = _graduation_on(run, chain, thresholds)
    if graduation_on is None or graduation_on > today or income < thresholds.graduation_income_pen:
        return result(Reason.GRADUATION_PENDING)
    if thresholds.graduation_requires_tenure:
        if tenure_on is None:
            return result(Reason.NO_TENURE)
        graduation_on = max(graduation_on, tenure_on)
    milestones[GRADUATED] = graduation_on.isoformat()
    stage, since, reason = GRADUATED, max(since, graduation_on), Reason.GRADUATION_MET
    return result(Reason.GRADUATION_MET)


def _without_overturned(visits: list[Visit], facts: Sequence[Fact]) -> list[Visit]:
    """The visits without the coca findings whose relapse an upheld appeal overturned."""
    overturned = {f.ref for f in facts if f.kind == RELAPSE_OVERTURNED}
    if not overturned:
        return visits
    return [v for v in visits if not (v.coca_ha > ZERO and v.on.isoformat() in overturned)]


def _decided(facts: Sequence[Fact], kind: str, relapse_on: date) -> Fact | None:
    """People's decision of ``kind`` about the relapse of ``relapse_on`` (or None)."""
    ref = relapse_on.isoformat()
    return next((f for f in facts if f.kind == kind and f.ref == ref), None)


def _exclusion_decision(facts: Sequence[Fact], relapse_on: date) -> Fact | None:
    """Staff's decision on the exclusion proposed at the relapse of ``relapse_on`` (or None); a
    dismissal (or an upheld appeal) outweighs a confirmation."""
    if not facts:
        return None
    return _decided(facts, EXCLUSION_DISMISSED, relapse_on) or _decided(
        facts, EXCLUSION_CONFIRMED, relapse_on
    )


def tenure_since(facts: Iterable[Fact], enrolled_on: date) -> date | None:
    """The day the tenure milestone was met: the earliest tenure fact (a registered title, or
    other secure tenure the programme accepts), not before enrolment; ``None`` without one."""
    first = min((f.on for f in facts if f.kind in TENURE_FACT_KINDS), default=None)
    return None if first is None else max(first, enrolled_on)


def _graduation_on(run: Sequence[Visit], chain: Sequence[Fact], th: Thresholds) -> date | None:
    """The day the graduation criteria were (or will be) all met, from evidence alone."""
    first = run[0].on
    second = next((v.on for v in run if v.on >= add_months(first, 12)), None)
    if second is None:
        return None
    income_on: date | None = None
    for index, delivery in enumerate(chain):
        window_start = add_months(delivery.on, -th.market_window_months)
        total = sum((d.value_pen or ZERO for d in chain[: index + 1] if d.on > window_start), ZERO)
        if total >= th.graduation_income_pen:
            income_on = delivery.on
            break
    if income_on is None:
        income_on = chain[-1].on
    return max(add_months(first, th.graduation_coca_free_months), second, income_on)


# Summary keys that describe the latest visit (rebuilt without eradications' stand-in visits).
_VISIT_KEYS = ("visits", "last_visit_on", "licit_ha", "coca", "last_visit")


def _with_eradications(evidence: HouseholdEvidence, today: date, th: Thresholds) -> Result:
    """The stage with verified eradications (DESIGN.md §6, issue 15 point 6).

    * A **forced** eradication dated after the household first reached ``coca_free`` (a
      coca-free visit following an agreement) is relapse evidence: it enters the walk as a
      visit finding its hectares of coca, so it relapses (and counts towards exclusion) exactly
      as such a visit would, with the reason ``forced_eradication``. Earlier forced
      eradications change nothing (coca on a family not yet coca-free is not a relapse).
    * A verified **voluntary** eradication counts toward the agreement: its hectares, dated on
      or after the signing of the agreement in force (the latest active one signed by
      ``today``), are summed against that agreement's ``coca_ha_committed``, reported in the
      evidence summary (``coca.agreement``: committed, eradicated, met). It is never relapse
      evidence and never moves the stage by itself: ``coca_free`` still needs a confirmed
      coca-free visit.
    """
    base = replace(evidence, eradications=())
    done = sorted((e for e in evidence.eradications if e.on <= today), key=lambda e: (e.on, e.ref))
    first = _first_coca_free(base, today)
    stand_ins = [
        Visit(e.on, e.hectares, ZERO, f"eradication:{e.ref}")
        for e in done
        if e.forced and first is not None and e.on > first and e.hectares > ZERO
    ]
    result = compute(replace(base, visits=(*base.visits, *stand_ins)), today, th)
    real_coca_days = {v.on for v in base.visits if v.coca_ha > ZERO}
    if (
        result.stage == RELAPSED
        and result.since not in real_coca_days
        and any(v.on == result.since for v in stand_ins)
    ):
        # A relapse that reached the programme's limit stays held back by the exclusion it
        # proposes (the engine opens the proposal from ``held_back``).
        held = result.held_back
        if held != Reason.EXCLUSION_PROPOSED:
            held = Reason.FORCED_ERADICATION
        result = replace(result, reason=Reason.FORCED_ERADICATION, held_back=held)
    relapses = (result.evidence_summary.get("coca") or {}).get("relapses", 0)
    summary = {k: v for k, v in result.evidence_summary.items() if k not in _VISIT_KEYS}
    summary.update(
        _summary(_visits_until(base.visits, today), _until(base.agreements, today), relapses)
    )
    coca = summary.setdefault("coca", {"relapses": relapses})
    coca["forced_eradications"] = sum(1 for e in done if e.forced)
    progress = agreement_progress(done, evidence.commitments, today)
    if progress is not None:
        coca["agreement"] = progress
    return replace(result, evidence_summary=summary)


def facts_of(facts: Iterable[Fact], kind: str) -> list[Fact]:
    """The facts of one kind (helper for callers and tests)."""
    return [f for f in facts if f.kind == kind]


__all__ = [
    "COCA_FREE",
    "COMMITTED",
    "CONTRACT_ACTIVE",
    "ENROLLED",
    "EXCLUDED",
    "EXPIRY_REASONS",
    "GRADUATED",
    "LADDER",
    "LICIT_PRODUCTION",
    "MARKET_LINKED",
    "RANK",
    "RELAPSED",
    "TENURE",
    "TITLE_APPLIED",
    "ZERO",
    "AlertWanted",
    "Eradication",
    "HouseholdEvidence",
    "Reason",
    "Result",
    "Thresholds",
    "Visit",
    "add_months",
    "agreement_progress",
    "compute",
    "facts_of",
    "licit_hectares",
    "tenure_since",
]
