"""The stage explained to people, in words: why a household is at its stage (the engine's
``Reason`` codes as sentences) and the evidence behind it (the ledger's evidence summary as
labelled lines, coca figures only for who may read them). Presentation only: the engine
decides, these functions say what it decided."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farmers.transition.facts import Reason

REASONS: dict[str, Promise] = {
    Reason.REGISTERED: gettext_lazy("Registered in the programme"),
    Reason.NOT_ACTIVE: gettext_lazy("The registration is not active"),
    Reason.NO_CONSENT: gettext_lazy("No signed consent on record"),
    Reason.NO_AGREEMENT: gettext_lazy("No agreement signed yet"),
    Reason.AGREEMENT_SIGNED: gettext_lazy("Agreement signed"),
    Reason.NO_VISIT: gettext_lazy("No confirmed coca-free visit yet"),
    Reason.COCA_FOUND: gettext_lazy("Coca found on the last confirmed visit"),
    Reason.COCA_FREE_VISIT: gettext_lazy("Coca-free visit confirmed"),
    Reason.VISIT_EXPIRED: gettext_lazy("The last coca-free visit is too old"),
    Reason.LICIT_BELOW_MINIMUM: gettext_lazy("Licit crops below the programme's minimum"),
    Reason.LICIT_CONFIRMED: gettext_lazy("Licit crops confirmed"),
    Reason.NO_DELIVERY: gettext_lazy("No accepted delivery yet"),
    Reason.MARKET_LINK_LAPSED: gettext_lazy("No accepted delivery within the market window"),
    Reason.DELIVERY_ACCEPTED: gettext_lazy("Delivery accepted on a sales contract"),
    Reason.GRADUATION_PENDING: gettext_lazy("Graduation criteria not met yet"),
    Reason.GRADUATION_MET: gettext_lazy("Graduation criteria met"),
    Reason.NO_TENURE: gettext_lazy("Graduation criteria met, but secure land tenure is missing"),
    Reason.RELAPSE: gettext_lazy("Coca found again after being coca-free (relapse)"),
    Reason.FORCED_ERADICATION: gettext_lazy("Relapse shown by a forced eradication"),
    Reason.READMITTED: gettext_lazy("Readmitted to the programme"),
    Reason.EXCLUDED: gettext_lazy("Excluded after repeated relapses"),
    Reason.EXCLUSION_PROPOSED: gettext_lazy(
        "Exclusion proposed after repeated relapses: waiting for programme staff"
    ),
}


def reason_label(code: str) -> str:
    """The engine's reason in words (an unknown code: a neutral sentence, never the code)."""
    label = REASONS.get(code)
    return str(label) if label is not None else _("Decided by the transition rules")


def _day(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def _number(value: Any) -> str:
    try:
        return str(number_format(value, decimal_pos=2, use_l10n=True))
    except (TypeError, ValueError):
        return ""


def evidence_rows(evidence: dict[str, Any] | None, *, show_coca: bool) -> list[tuple[str, str]]:
    """The evidence summary as ``(label, value)`` lines; keys it does not know are left out
    (no codes, no JSON), and the ``coca`` figures only when ``show_coca``."""
    data = evidence or {}
    rows: list[tuple[str, str]] = []

    def add(label: str, value: str) -> None:
        if value != "":
            rows.append((label, value))

    if "agreements" in data:
        add(_("Agreements signed"), str(data["agreements"]))
    if data.get("last_agreement_on"):
        add(_("Last agreement"), _day(data["last_agreement_on"]))
    if "visits" in data:
        add(_("Confirmed visits"), str(data["visits"]))
    if data.get("last_visit_on"):
        add(_("Last confirmed visit"), _day(data["last_visit_on"]))
    if data.get("licit_ha") is not None:
        add(_("Licit crops on the last visit (ha)"), _number(data["licit_ha"]))
    coca = data.get("coca") if show_coca else None
    if isinstance(coca, dict):
        if coca.get("coca_ha") is not None:
            add(_("Coca on the last visit (ha)"), _number(coca["coca_ha"]))
        if "relapses" in coca:
            add(_("Relapses"), str(coca["relapses"]))
        if coca.get("forced_eradications"):
            add(_("Forced eradications"), str(coca["forced_eradications"]))
        agreement = coca.get("agreement")
        if isinstance(agreement, dict):
            add(
                _("Eradication agreed"),
                _("%(done)s of %(committed)s ha eradicated (%(state)s)")
                % {
                    "done": _number(agreement.get("eradicated_ha")),
                    "committed": _number(agreement.get("committed_ha")),
                    "state": _("met") if agreement.get("met") else _("not met yet"),
                },
            )
    if data.get("titles_registered"):
        add(_("Titles registered"), str(data["titles_registered"]))
    if data.get("last_delivery_on"):
        add(_("Last accepted delivery"), _day(data["last_delivery_on"]))
    if data.get("income_window_pen") is not None:
        add(_("Sales income in the market window (S/)"), _number(data["income_window_pen"]))
    if data.get("merged_from"):
        add(_("Brought in by merging household"), str(data["merged_from"]))
    return rows


def correction_value(value: Any, field: str) -> str:
    """A corrected visit's value as people read it: a day as dd/mm/aaaa, hectares with the
    local decimal separator."""
    if field == "visited_on":
        return _day(value) or str(value)
    return _number(value) or str(value)
