"""A programme's title settings (``TitleSettings``): saved with history."""

from __future__ import annotations

from django.db import transaction

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.history import change_record

from .. import policies
from ..models import TitleSettings


@transaction.atomic
def title_settings_save(
    *, actor: Actor, settings_obj: TitleSettings, channel: str = "admin"
) -> TitleSettings:
    """Save a programme's title settings, its public-notice window and SLA targets (programme
    staff of its agency, ``titles.policies``); history in the same transaction."""
    policies.require_title_settings(actor, settings_obj)
    settings_obj.full_clean()
    created = settings_obj.pk is None
    settings_obj.save()
    change_record(
        instance=settings_obj,
        action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
        actor=actor,
        channel=channel,
    )
    return settings_obj
