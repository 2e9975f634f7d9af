"""Reads of the registry kernel. Reference data is visible to every authenticated actor."""

from __future__ import annotations

from django.db.models import QuerySet

from .actors import Actor
from .exceptions import NotFound
from .models import District, Organization, Program


def district_list(*, actor: Actor) -> QuerySet[District]:
    """All districts, with province and department joined (one query per page)."""
    return District.objects.select_related("province", "department")


def organization_list(*, actor: Actor) -> QuerySet[Organization]:
    """Active organizations (reference data)."""
    return Organization.objects.filter(is_active=True).select_related(
        "district__province", "district__department"
    )


def organization_get(*, actor: Actor, code: str) -> Organization:
    """One active organization by code, or 404."""
    organization = organization_list(actor=actor).filter(code=code).first()
    if organization is None:
        raise NotFound()
    return organization


def program_list(*, actor: Actor) -> QuerySet[Program]:
    """Active programmes (reference data), with agency and funder joined."""
    return Program.objects.filter(is_active=True).select_related("agency", "funder")
