"""A programme's title settings (``TitleSettings``): saved with history."""

from __future__ import annotations

from django.db import transaction

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.history import change_record

from .. import policies
from ..models import AuthorityNoticeDays, TitleSettings


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


@transaction.atomic
def authority_notice_days_save(
    *,
    actor: Actor,
    row: AuthorityNoticeDays,
    delete: bool = False,
    channel: str = "admin",
) -> None:
    """Save (or ``delete``) a titling authority's own public-notice window in a programme's
    title settings (who may: as for the settings); history on the settings, in the same
    transaction. Files already in their notice keep the window they opened with."""
    settings_obj = row.settings
    policies.require_title_settings(actor, settings_obj)
    code = row.authority.code
    if delete:
        row.delete()
        value = None
    else:
        row.full_clean()
        row.save()
        value = row.public_notice_days
    change_record(
        instance=settings_obj,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"authority_notice_days": [code, value]},
        channel=channel,
    )
