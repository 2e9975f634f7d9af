"""The data of the farmers' webhook events (``household.status_changed``,
``household.stage_changed``, ``household.consent_changed``), built at send time for what the
subscriber may see: households of its area it may read (households:read), the stage only where
``policies.stage_visible`` (the stage is coca data; shown by virtue of coca:read it is a logged
read). Never names, documents or phones: only the pseudonym of ``farmers.consent``, so no event
needs the family's consent to be masked and a withdrawal changes nothing in them."""

from __future__ import annotations

from typing import Any

from registry.actors import Actor
from registry.choices import Scope, WebhookEventType
from registry.models import WebhookEvent
from registry.webhooks import register_event
from registry.webhooks.builders import log_coca_read, moved

from . import policies
from .consent import pseudonym
from .models import Household


def _household(event: WebhookEvent, actor: Actor) -> Household | None:
    return (
        Household.objects.filter(
            policies.household_q(actor, Scope.HOUSEHOLDS_READ), pk=event.subject_id
        )
        .select_related("program")
        .first()
    )


def _identity(household: Household) -> dict[str, Any]:
    # The pseudonym (``farmers.consent``): what any subscriber may see, whatever the family's
    # consent; events never carry names, documents, phones or places.
    return pseudonym(household)


def household_status_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """The household's review status move; its current stage only for who may see it."""
    household = _household(event, actor)
    if household is None:
        return None
    data = {**_identity(household), **moved(event), "status": household.status}
    if policies.stage_visible(actor, household):
        data["stage"] = household.stage
        if policies.coca_visible(actor, household):
            log_coca_read(actor, event, "households", [household.pk], ["stage"])
    return data


def household_stage_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """The stage move: sent only where the subscriber may see the household's stage."""
    household = _household(event, actor)
    if household is None or not policies.stage_visible(actor, household):
        return None
    if policies.coca_visible(actor, household):
        log_coca_read(actor, event, "households", [household.pk], ["stage"])
    return {
        **_identity(household),
        **moved(event),
        "effective_on": event.payload.get("effective_on"),
        "stage": household.stage,
    }


def household_consent_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """A new consent version: the purposes before and after and the signing date, so a
    partner knows at once whether it may still read the family (purposes are no personal
    data)."""
    household = _household(event, actor)
    if household is None:
        return None
    return {
        **_identity(household),
        **moved(event),
        "signed_on": event.payload.get("signed_on"),
    }


def register() -> None:
    """Register the builders (``FarmersConfig.ready``)."""
    register_event(WebhookEventType.HOUSEHOLD_STATUS_CHANGED, household_status_data)
    register_event(WebhookEventType.HOUSEHOLD_STAGE_CHANGED, household_stage_data)
    register_event(WebhookEventType.HOUSEHOLD_CONSENT_CHANGED, household_consent_data)
