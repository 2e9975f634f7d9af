"""Scope checks: each view names the scope each action needs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.request import Request

from registry.choices import Scope

from .authentication import get_actor


def required_scope(view: Any, request: Request) -> str:
    """The scope the current action needs: ``action_scopes`` first, then read/write scopes."""
    action = getattr(view, "action", None)
    action_scopes: dict[str, str] = getattr(view, "action_scopes", {})
    if action in action_scopes:
        return action_scopes[action]
    if request.method in permissions.SAFE_METHODS:
        return str(getattr(view, "read_scope", Scope.REFERENCE_READ))
    # Read-only views name no write scope: the method check that follows answers 405.
    return str(
        getattr(view, "write_scope", None) or getattr(view, "read_scope", Scope.REFERENCE_READ)
    )


class HasScope(permissions.BasePermission):
    """Allows the request when the actor is authenticated and holds the action's scope."""

    code = "missing_scope"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        actor = get_actor(request)
        scope = required_scope(view, request)
        if actor.has_scope(scope):
            return True
        self.message = _("Your credentials lack the “%(scope)s” scope.") % {"scope": scope}
        return False
