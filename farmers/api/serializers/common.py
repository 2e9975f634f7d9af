"""What the farmers serializers share: who sees coca and stage data, and the workflow-move
input."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from farmers import consent, policies
from registry.api.lean import own_row_mask


def coca_shown(context: dict[str, Any], record: Any) -> bool:
    """Whether this response shows the coca fields of ``record`` (``policies.coca_visible``
    for the request's actor, when the view shows coca at all)."""
    return bool(context.get("show_coca")) and policies.coca_visible(context.get("actor"), record)


class CocaFieldsMixin:
    """Drops ``coca_fields`` from the output unless the caller may read coca for this record."""

    coca_fields: tuple[str, ...] = ()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        own_row_mask(CocaFieldsMixin, self, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """Drop the coca fields of ``record`` (an instance, or a row of the lean list path)
        from ``data`` unless the caller may read them."""
        if not coca_shown(context, record):
            for name in cls.coca_fields:
                data.pop(name, None)


def stage_shown(context: dict[str, Any], record: Any) -> bool:
    """Whether this response shows the stage data of ``record`` (a household or a stage change:
    ``policies.stage_visible`` for the request's actor; the stage is coca data)."""
    return policies.stage_visible(context.get("actor"), record)


def stage_logged(context: dict[str, Any], record: Any) -> bool:
    """Whether showing ``record``'s stage is a logged coca read: shown by virtue of coca:read
    in its area (partners' keys, people reading with coca:read), not as the programme's own
    people without it."""
    return stage_shown(context, record) and policies.coca_visible(context.get("actor"), record)


def personal_shown(context: dict[str, Any], record: Any) -> bool:
    """Whether this response shows the personal data of ``record`` (a household or one of its
    records): ``farmers.consent.personal_visible`` for the request's actor (the household's
    current consent grants the purpose the caller's organization needs)."""
    return consent.personal_visible(context.get("actor"), record)


class PersonalFieldsMixin:
    """Pseudonymises ``masked_fields`` (name → empty value) unless the household's consent lets
    the caller see its personal data (``farmers.consent``); the shape stays the same."""

    masked_fields: dict[str, Any] = {}

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        own_row_mask(PersonalFieldsMixin, self, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """Pseudonymise ``cls.masked_fields`` of ``record`` (an instance, or a row of the lean
        list path) in ``data`` unless the household's consent covers the caller."""
        if not personal_shown(context, record):
            consent.mask(data, cls.masked_fields)


class TransitionSerializer(serializers.Serializer[Any]):
    """A workflow move: the target state and, where the move needs one, a reason."""

    to: serializers.Field[Any, Any, Any, Any] = serializers.CharField(max_length=30)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
