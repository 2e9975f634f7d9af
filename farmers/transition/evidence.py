"""Evidence providers: batch selectors that other apps register with the transition engine.

A provider is a callable ``provider(household_ids, as_of) -> Iterable[Fact]``. It must answer a
whole batch in a fixed number of queries (one, ideally), whatever the batch size, filtering its
rows with :func:`batch_q` (an id range for a sweep batch, not thousands of ids), and return
only facts dated on or before ``as_of`` is NOT required: the engine itself ignores facts dated
after the day it computes for.

Fact kinds (the vocabulary shared with ``titles`` and ``markets``):

``title_applied``       a title application was filed (``on`` = submission date, ``ref`` = its id)
``title_registered``    a title was registered in SUNARP (``on`` = registration date)
``contract_active``     a market-access contract became active (``on`` = activation or season
                        start, ``until`` = season end, ``status`` = the contract's status now:
                        ``active``, ``suspended``, ``completed``, ``terminated``, ...)
``delivery_accepted``   an accepted (or paid) delivery (``on`` = delivery date, ``quantity`` =
                        kg, ``value_pen`` = amount, ``status`` = the contract's status now)
``tenure_accepted``     another secure tenure the programme accepts (``on`` = the day it was
                        accepted): the extension point of the tenure track for tenure that is
                        not an individual SUNARP title, e.g. a titled native or campesino
                        community whose land holds the plot. No app provides it yet; a provider
                        registered for it counts towards ``milestones["tenure"]`` with no change
                        to the rules.

``exclusion_confirmed`` / ``exclusion_dismissed``  programme staff decided an exclusion the engine
                        proposed (``on`` = the decision's day, ``ref`` = the ISO day of the
                        relapse that triggered it); from ``farmers.transition.decisions``.

``relapse_overturned``  programme staff upheld the family's appeal of its relapse (``ref`` = the
                        ISO day of that relapse): the coca finding does not count as a relapse.
                        An upheld appeal of an exclusion is an ``exclusion_dismissed`` fact.

``title_registered`` and ``tenure_accepted`` are the tenure facts (``TENURE_FACT_KINDS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Q

TITLE_APPLIED = "title_applied"
TITLE_REGISTERED = "title_registered"
CONTRACT_ACTIVE = "contract_active"
DELIVERY_ACCEPTED = "delivery_accepted"
TENURE_ACCEPTED = "tenure_accepted"
EXCLUSION_CONFIRMED = "exclusion_confirmed"
EXCLUSION_DISMISSED = "exclusion_dismissed"
RELAPSE_OVERTURNED = "relapse_overturned"

FACT_KINDS = (
    TITLE_APPLIED,
    TITLE_REGISTERED,
    CONTRACT_ACTIVE,
    DELIVERY_ACCEPTED,
    TENURE_ACCEPTED,
    EXCLUSION_CONFIRMED,
    EXCLUSION_DISMISSED,
    RELAPSE_OVERTURNED,
)
# Facts that give a household secure tenure (the tenure milestone; DESIGN.md §6).
TENURE_FACT_KINDS = frozenset({TITLE_REGISTERED, TENURE_ACCEPTED})


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see facts.VALUE_OBJECTS
class Fact:
    """One dated piece of evidence about a household, from another app."""

    household_id: UUID
    kind: str
    on: date
    ref: str = ""
    status: str = ""
    until: date | None = None
    quantity: Decimal | None = None
    value_pen: Decimal | None = None


class HouseholdBatch(Sequence[UUID]):
    """The household ids of a batch; for a sweep range also its bounds (``lo``..``hi``), so a
    provider can filter by range instead of sending thousands of ids to the database.

    The engine reads ids as text (cheaper to read and to hash); they become ``UUID`` objects
    only if a provider looks at them (a range batch filtered by ``batch_q`` never does)."""

    def __init__(
        self, ids: Iterable[UUID | str], lo: UUID | None = None, hi: UUID | None = None
    ) -> None:
        self._raw = list(ids)
        self._uuids: list[UUID] | None = None
        self.lo = lo
        self.hi = hi

    def _ids(self) -> list[UUID]:
        if self._uuids is None:
            self._uuids = [i if isinstance(i, UUID) else UUID(str(i)) for i in self._raw]
        return self._uuids

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index: Any) -> Any:
        return self._ids()[index]

    def __iter__(self) -> Iterator[UUID]:
        return iter(self._ids())


def batch_q(household_ids: Sequence[UUID], field: str = "household_id") -> Q:
    """The filter a provider applies to its rows' household column for ``household_ids``: an id
    range for a sweep batch (an index range scan; ids outside the batch cannot exist in the
    range, because the batch is every household in it), else ``IN (...)``."""
    lo = getattr(household_ids, "lo", None)
    hi = getattr(household_ids, "hi", None)
    if lo is not None and hi is not None:
        return Q(**{f"{field}__gte": lo, f"{field}__lte": hi})
    return Q(**{f"{field}__in": list(household_ids)})


Provider = Callable[[Sequence[UUID], date], Iterable[Fact]]

_providers: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    """Register (or replace) the batch selector ``provider`` under ``name`` (e.g. ``"titles"``)."""
    _providers[name] = provider


def providers() -> dict[str, Provider]:
    """The registered providers, by name."""
    return dict(_providers)


def gather(household_ids: Sequence[UUID], as_of: date) -> dict[UUID, list[Fact]]:
    """All provider facts for ``household_ids``, grouped by household (one pass per provider)."""
    facts: dict[UUID, list[Fact]] = {}
    for provider in _providers.values():
        for fact in provider(household_ids, as_of):
            facts.setdefault(fact.household_id, []).append(fact)
    return facts
