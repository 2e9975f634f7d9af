"""Extension points of the field pages for the apps above farmers (titles, markets).

farmers never imports titles or markets: they register here from ``AppConfig.ready()``:

* ``register_household_panel(name, renderer, order=...)`` — a section of the household page.
  ``renderer(actor, household)`` returns ``(template_name, context)`` or ``None`` to hide it.
* ``register_household_action(name, label, url_name, order=..., available=...)`` — a button on
  the household page linking to ``reverse(url_name, kwargs={"household_id": household.pk})``,
  shown only where ``available(actor, household)`` says it can succeed (always without it).
* ``register_field_urls(patterns)`` — extra pages mounted under ``/campo/`` in the ``field``
  namespace (so inside the service worker's scope), e.g. the title application form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.urls import URLPattern, URLResolver, reverse
from django.utils.safestring import SafeString

from registry.actors import Actor

PanelRenderer = Callable[[Actor, Any], "tuple[str, dict[str, Any]] | None"]
ActionCheck = Callable[[Actor, Any], bool]


@dataclass(frozen=True)
class _Panel:
    name: str
    renderer: PanelRenderer
    order: int


@dataclass(frozen=True)
class HouseholdAction:
    """A link button on the household page."""

    name: str
    label: Any
    url_name: str
    order: int
    check: ActionCheck | None = None

    def url(self, household: Any) -> str:
        return reverse(self.url_name, kwargs={"household_id": household.pk})

    def available(self, actor: Actor, household: Any) -> bool:
        """Whether the action can succeed on ``household`` for ``actor`` (offered only then)."""
        return self.check is None or bool(self.check(actor, household))


_panels: dict[str, _Panel] = {}
_actions: dict[str, HouseholdAction] = {}
extra_urlpatterns: list[URLPattern | URLResolver] = []


def register_household_panel(name: str, renderer: PanelRenderer, *, order: int = 100) -> None:
    """Add (or replace, by ``name``) a section of the household page."""
    _panels[name] = _Panel(name, renderer, order)


def register_household_action(
    name: str,
    label: Any,
    url_name: str,
    *,
    order: int = 100,
    available: ActionCheck | None = None,
) -> None:
    """Add (or replace, by ``name``) a button of the household page (``label`` translatable),
    offered only where ``available(actor, household)`` is true when given."""
    _actions[name] = HouseholdAction(name, label, url_name, order, available)


def register_field_urls(patterns: Sequence[URLPattern | URLResolver]) -> None:
    """Mount extra pages under ``/campo/`` in the ``field`` namespace (call from ``ready()``)."""
    extra_urlpatterns.extend(patterns)


def unregister(name: str) -> None:
    """Drop a panel or an action (tests)."""
    _panels.pop(name, None)
    _actions.pop(name, None)


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    html: SafeString


def household_panels(actor: Actor, household: Any, request: Any = None) -> list[RenderedPanel]:
    """The registered panels of ``household`` rendered for ``actor``, in order."""
    rendered: list[RenderedPanel] = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        result = panel.renderer(actor, household)
        if result is None:
            continue
        template_name, context = result
        html = render_to_string(
            template_name, {"household": household, "actor": actor, **context}, request=request
        )
        rendered.append(RenderedPanel(panel.name, SafeString(html)))
    return rendered


def household_actions() -> list[HouseholdAction]:
    """The registered household buttons, in order."""
    return sorted(_actions.values(), key=lambda a: (a.order, a.name))
