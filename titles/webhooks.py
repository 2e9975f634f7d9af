"""The data of ``title_application.status_changed``, built at send time through
``policies.title_application_q`` (titles:read in the subscriber's area; a titling authority
only its own files). Ids and statuses only."""

from __future__ import annotations

from typing import Any

from registry.actors import Actor
from registry.choices import WebhookEventType
from registry.models import WebhookEvent
from registry.webhooks import register_event
from registry.webhooks.builders import moved

from . import policies
from .models import TitleApplication


def title_application_data(event: WebhookEvent, actor: Actor) -> dict[str, Any] | None:
    """A title application's status move."""
    application = TitleApplication.objects.filter(
        policies.title_application_q(actor), pk=event.subject_id
    ).first()
    if application is None:
        return None
    return {
        "id": str(application.pk),
        "household": str(application.household_id),
        "plot": str(application.plot_id) if application.plot_id else None,
        **moved(event),
        "status": application.status,
    }


def register() -> None:
    """Register the builder (``TitlesConfig.ready``)."""
    register_event(WebhookEventType.TITLE_APPLICATION_STATUS_CHANGED, title_application_data)
