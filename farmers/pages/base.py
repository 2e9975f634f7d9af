"""What every field page shares: sign-in (``field_page`` gives the view the ``Actor`` and turns
records outside the actor's area into 404, as in the API), the login and logout pages, and the
form helpers (dotted field names shared with the API and the phone's outbox, the service's errors
per field, the officer's districts, programmes and choice lists).

Other apps' pages use ``field_page``, ``service_errors`` and ``uuid_or_none`` too
(``titles/pages.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from farmers.choices import (
    ConsentPurpose,
    Crop,
    DocumentType,
    Relationship,
    Sex,
    Tenure,
    TrainingTopic,
    VerificationMethod,
)
from farmers.models import Household
from registry.actors import Actor
from registry.choices import Scope
from registry.cleaning import typed_number
from registry.exceptions import NotFound, RegistryError
from registry.models import District, Membership, Program

field_login_required = login_required(login_url=reverse_lazy("field:login"))
View = Callable[..., HttpResponse]


def field_page(view: View) -> View:
    """Signed-in people only (others go to the field login); the view gets the ``Actor``.
    Records outside the actor's area answer 404, as in the API."""

    @field_login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = Actor.for_user(request.user)
        try:
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404 from exc

    return wrapper


class LoginView(auth_views.LoginView):
    """Sign in, styled for phones."""

    template_name = "field/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("field:my_work")


class LogoutView(auth_views.LogoutView):
    """Sign out (POST), back to the field login."""

    next_page = "field:login"


def officer_districts(actor: Actor) -> list[District]:
    """Districts where the actor may register households (VRAEM districts if unrestricted)."""
    codes: set[str] = set()
    unbounded = actor.unrestricted
    for area in actor.areas:
        if not area.allows(Scope.HOUSEHOLDS_WRITE):
            continue
        if area.districts is None:
            unbounded = True
        else:
            codes |= area.districts
    condition = Q(is_vraem=True) if unbounded else Q(ubigeo__in=sorted(codes))
    return list(District.objects.filter(condition).select_related("province").order_by("name"))


def officer_home_district(actor: Actor, districts: list[District]) -> str:
    """The district the register form preselects among ``districts``: where the person last
    registered a household, else the first district assigned to them by name (their own
    membership's districts), else the first of the list; ``""`` when the list is empty."""
    codes = [d.ubigeo for d in districts]
    if not codes or actor.user is None:
        return ""
    last = (
        Household.objects.filter(created_by=actor.user, district_id__in=codes)
        .order_by("-created_at")
        .values_list("district_id", flat=True)
        .first()
    )
    if last:
        return str(last)
    assigned = set(
        Membership.objects.filter(user=actor.user, is_active=True).values_list(
            "districts__ubigeo", flat=True
        )
    )
    return next((code for code in codes if code in assigned), codes[0])


def officer_programs(actor: Actor) -> list[Program]:
    """Active programmes where the actor may register households."""
    ids: set[int] = set()
    unbounded = actor.unrestricted
    for area in actor.areas:
        if not area.allows(Scope.HOUSEHOLDS_WRITE):
            continue
        if area.programs is None:
            unbounded = True
        else:
            ids |= area.programs
    programs = Program.objects.filter(is_active=True)
    if not unbounded:
        programs = programs.filter(pk__in=sorted(ids))
    return list(programs.order_by("name"))


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in enum.choices]


def form_choices() -> dict[str, list[tuple[str, str]]]:
    """Choice lists of the forms, labels in the active language."""
    return {
        "document_types": _choices(DocumentType),
        "sexes": _choices(Sex),
        "relationships": _choices(Relationship),
        "purposes": _choices(ConsentPurpose),
        "tenures": _choices(Tenure),
        "crops": _choices(Crop),
        "methods": _choices(VerificationMethod),
        "training_topics": _choices(TrainingTopic),
    }


def nested_data(data: QueryDict, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """``members.0.given_names=Ana`` → ``{"members": [{"given_names": "Ana"}]}``: the form's
    field names are the API's error paths, so one form serves the API and this fallback."""
    root: dict[str, Any] = {}
    for key in data:
        if key == "csrfmiddlewaretoken":
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = data.getlist(key) if key in lists else data.get(key, "")

    def listify(value: Any) -> Any:
        if isinstance(value, dict):
            if value and all(k.isdigit() for k in value):
                return [listify(value[k]) for k in sorted(value, key=int)]
            return {k: listify(v) for k, v in value.items()}
        return value

    result: dict[str, Any] = listify(root)
    return result


def form_number(value: Any) -> Any:
    """A number as people type it in Peru: ``0,25`` (decimal comma) → ``0.25``; anything else
    unchanged (the service says what is wrong with it)."""
    return typed_number(value) if isinstance(value, str) else value


def form_date(value: Any) -> Any:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value


def error_map(exc: Exception) -> dict[str, list[str]]:
    """Field path → messages (``""`` for the form as a whole), from a service's exception."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {
                ("" if k in ("__all__", "non_field_errors") else k): [
                    str(m) for e in v for m in e.messages
                ]
                for k, v in exc.error_dict.items()
            }
        return {"": [str(m) for m in exc.messages]}
    if isinstance(exc, RegistryError):
        return {exc.attr or "": [exc.detail]}
    raise exc


@contextmanager
def service_errors(errors: dict[str, list[str]]) -> Iterator[None]:
    """Run a form's service call: a ``ValidationError`` or ``RegistryError`` it raises fills
    ``errors`` (``error_map``) instead, and the page renders the form again with them."""
    try:
        yield
    except (ValidationError, RegistryError) as exc:
        errors.update(error_map(exc))


def form_context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "choices": form_choices(),
        "today": timezone.localdate().isoformat(),
        **extra,
    }


def uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
