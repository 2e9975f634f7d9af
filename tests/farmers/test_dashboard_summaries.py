"""The dashboard's summary tables stay equal to a full recomputation after random sequences of
changes made through the services (registration, review, district and programme changes,
support, evidence then the engine's recompute, sweeps, merges, title files and their moves,
contracts, deliveries and their moves), on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import io
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from farmers import services
from farmers.choices import HouseholdStatus, Stage
from farmers.models import Household
from farmers.reporting import summaries
from farmers.services.enrolment import enrolment_date
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from farmers.transition.sweep import run_all
from markets import services as markets_services
from markets.choices import ContractStatus, DeliveryStatus
from markets.models import Contract, Delivery
from markets.workflow import CONTRACT_MACHINE
from registry.actors import Actor
from registry.choices import OrganizationKind, Role
from registry.exceptions import RegistryError
from registry.models import District, Organization, Program
from registry.services import role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory
from tests.farmers.test_merge_and_admin import CONSENT, member, person
from tests.farmers.transition_helpers import add_evidence, make_household
from tests.titles.conftest import EXTRA, POSSESSION_SINCE, attach, registration, square
from titles import services as titles_services
from titles.choices import TitleDocumentType, TitleStatus
from titles.models import TitleApplication
from titles.workflow import next_states

pytestmark = pytest.mark.django_db

PICHARI, KIMBIRI = "080910", "080907"
TODAY = date(2026, 11, 28)


def table_state() -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    """Every non-zero cell of every summary table."""
    state: dict[str, dict[tuple[Any, ...], tuple[int, ...]]] = {}
    for part, (model, keys, values) in summaries.TABLES.items():
        # A cell is the sum of its delta rows.
        sums: dict[tuple[Any, ...], list[int]] = {}
        for row in model.objects.values_list(*keys, *values):
            cell = sums.setdefault(tuple(row[: len(keys)]), [0] * len(values))
            for i, value in enumerate(row[len(keys) :]):
                cell[i] += value
        state[part] = {k: tuple(v) for k, v in sums.items() if any(v)}
    return state


def assert_equal_to_rebuild() -> None:
    maintained = table_state()
    summaries.rebuild()
    rebuilt = table_state()
    for part in summaries.TABLES:
        assert maintained[part] == rebuilt[part], part


class World:
    """Two programmes of one agency, an implementer in Pichari and Kimbiri, its officer and
    supervisor, and the households registered so far."""

    def __init__(self, program: Program, partner: Organization, rng: random.Random) -> None:
        role_groups_sync()
        self.rng = rng
        self.program = program
        self.second = ProgramFactory.create(code="segundo", agency=program.agency)
        partner.programs.add(self.second)
        self.funder = OrganizationFactory.create(code="fondo", kind=OrganizationKind.FUNDER)
        program.funder = self.funder
        program.save(update_fields=["funder"])
        self.officer = Actor.for_user(person("tecnico", partner, Role.FIELD_OFFICER))
        self.supervisor = Actor.for_user(person("supervisora", partner, Role.SUPERVISOR))
        self.households: list[Household] = []
        self.dni = 40_000_000
        self.authority = OrganizationFactory.create(
            code="dra-cusco", kind=OrganizationKind.TITLING_AUTHORITY, ruc=""
        )
        self.authority.districts.set(District.objects.filter(ubigeo__in=[PICHARI, KIMBIRI]))
        markets_services.buyer_register(
            actor=None, code="coop-pangoa", name="Cooperativa Agraria Pangoa", ruc="20131312955"
        )
        self.files: list[Any] = []
        self.contracts: list[Any] = []
        self.deliveries: list[Any] = []
        self.plots = 0

    def fresh(self, household: Household) -> Household:
        return Household.objects.get(pk=household.pk)

    def live(self, *statuses: str) -> list[Household]:
        wanted = statuses or (HouseholdStatus.ACTIVE,)
        return [h for h in map(self.fresh, self.households) if h.status in wanted]

    # --- the moves -----------------------------------------------------------------------

    def seeded(self) -> None:
        """An active household registered in 2024–2025 with evidence (written directly, as
        the seeders do), then counted by a rebuild of the summaries."""
        registered = date(2024, 1, 1) + timedelta(days=self.rng.randrange(600))
        case = HouseholdEvidence(household_id=None, registered_on=registered)
        household = make_household(self.program, case, district=self.rng.choice([PICHARI, KIMBIRI]))
        self.households.append(household)
        summaries.rebuild()

    def register(self) -> None:
        self.dni += 1
        household, _created = services.household_register(
            actor=self.officer,
            program=self.rng.choice(["pirdais", "segundo"]),
            district=self.rng.choice([PICHARI, KIMBIRI]),
            community="Natividad",
            members=[
                member(
                    f"Nombre{self.dni}",
                    f"Apellido{self.dni}",
                    str(self.dni),
                    "f",
                    date(1980, 1, 1),
                    "head",
                )
            ],
            consent=CONSENT,
        )
        self.households.append(household)

    def approve(self) -> None:
        pending = self.live(HouseholdStatus.PENDING_REVIEW)
        if pending:
            services.household_transition(
                actor=self.supervisor,
                household=self.rng.choice(pending),
                to=HouseholdStatus.ACTIVE,
            )

    def deactivate(self) -> None:
        active = self.live()
        if active:
            services.household_transition(
                actor=self.supervisor,
                household=self.rng.choice(active),
                to=HouseholdStatus.INACTIVE,
                reason="Se mudó fuera del programa",
            )

    def move(self) -> None:
        live = self.live(HouseholdStatus.ACTIVE, HouseholdStatus.PENDING_REVIEW)
        if live:
            household = self.rng.choice(live)
            data = (
                {"district": KIMBIRI if household.district_id == PICHARI else PICHARI}
                if self.rng.random() < 0.5
                else {"program": "segundo" if household.program.code == "pirdais" else "pirdais"}
            )
            services.household_update(
                actor=self.supervisor, household=household, data=data, expected_version=None
            )

    def support(self) -> None:
        active = self.live()
        if active:
            household = self.rng.choice(active)
            funded = household.program_id == self.program.pk and self.rng.random() < 0.5
            services.support_record(
                actor=self.officer,
                household=household.pk,
                kind="inputs",
                cost_pen=str(Decimal(self.rng.randrange(1, 90_000)) / 100),
                given_on=min(
                    enrolment_date(household) + timedelta(days=self.rng.randrange(300)), TODAY
                ),
                funding_source="fondo" if funded else None,
            )

    def evidence(self) -> None:
        active = self.live()
        if active:
            household = self.rng.choice(active)
            start = household.created_at.date()
            on = start + timedelta(days=self.rng.randrange(20, 700))
            coca = Decimal(self.rng.choice(["0", "0", "0", "0.5"]))
            add_evidence(
                household,
                agreements=[start + timedelta(days=10)] if self.rng.random() < 0.7 else [],
                visits=[Visit(min(on, TODAY), coca, Decimal(self.rng.choice(["0", "1.5"])))],
            )
            engine.recompute_households([household.pk], TODAY)

    def sweep(self) -> None:
        run_all(today=TODAY - timedelta(days=self.rng.randrange(0, 200)), chunk_size=3)

    def merge(self) -> None:
        live = self.live(HouseholdStatus.ACTIVE, HouseholdStatus.PENDING_REVIEW)
        if len(live) >= 2:
            source, target = self.rng.sample(live, 2)
            services.household_merge(actor=self.supervisor, source=source, target=target)

    # --- title files, contracts and deliveries (``titles.summaries``, ``markets.summaries``) --

    def title_file(self) -> None:
        """A title file for an active household's new plot, with every document."""
        active = self.live()
        if not active:
            return
        household = self.rng.choice(active)
        self.plots += 1
        plot, _created = services.plot_create(
            actor=SYSTEM,
            household=household.pk,
            name=f"Chacra {self.plots}",
            tenure="possession",
            geometry=square(-73.97 + 0.01 * self.plots, -12.52),
        )
        application, _created = titles_services.title_application_create(
            actor=SYSTEM,
            household=household.pk,
            plot=plot.pk,
            authority=self.authority.code,
            possession_started_on=POSSESSION_SINCE,
        )
        attach(application, *TitleDocumentType.values)
        self.files.append(application.pk)

    def title_move(self) -> None:
        """A random move of a random file, on a day after its last act (refused moves roll
        back and change nothing)."""
        if not self.files:
            return
        application = TitleApplication.objects.get(pk=self.rng.choice(self.files))
        targets = next_states(application)
        if not targets:
            return
        # Mostly forward, sometimes a detour or an end (observed, rejected, withdrawn).
        ahead = [t for t in targets if t not in SIDE_MOVES] or targets
        to = self.rng.choice(ahead if self.rng.random() < 0.8 else targets)
        day = application.status_since + timedelta(days=self.rng.randrange(1, 40))
        if to == TitleStatus.TITLE_ISSUED and application.notice_ends_on is not None:
            day = max(day, application.notice_ends_on + timedelta(days=1))
        extra = registration(day) if to == TitleStatus.REGISTERED else dict(EXTRA.get(to, {}))
        if to == TitleStatus.REJECTED:
            extra = {"reason": "litigation"}
        with contextlib.suppress(RegistryError, ValidationError):
            titles_services.title_application_transition(
                actor=SYSTEM, application=application.pk, to=to, today=day, **extra
            )

    def contract(self) -> None:
        """A cacao contract of an active household, signed at once most times."""
        active = self.live()
        if not active:
            return
        contract, _created = markets_services.contract_create(
            actor=SYSTEM,
            household=self.rng.choice(active).pk,
            buyer="coop-pangoa",
            crop="cacao",
            product_form=self.rng.choice(["cacao_dry", "cacao_wet"]),
            season_start=TODAY - timedelta(days=200),
            season_end=TODAY + timedelta(days=100),
            volume_kg="1500",
            price_pen_per_kg=self.rng.choice(["9.50", "7.25"]),
        )
        self.contracts.append(contract.pk)
        if self.rng.random() < 0.8:
            markets_services.contract_transition(
                actor=SYSTEM,
                contract=contract,
                to=ContractStatus.ACTIVE,
                signed_on=contract.season_start,
                today=TODAY - timedelta(days=150),
            )

    def contract_move(self) -> None:
        if not self.contracts:
            return
        contract = Contract.objects.get(pk=self.rng.choice(self.contracts))
        targets = CONTRACT_MACHINE.allowed(contract.status)
        if not targets:
            return
        with contextlib.suppress(RegistryError, ValidationError):
            markets_services.contract_transition(
                actor=SYSTEM,
                contract=contract,
                to=self.rng.choice(targets),
                reason="prueba",
                override_reason="prueba",
                today=TODAY - timedelta(days=self.rng.randrange(0, 100)),
            )

    def deliver(self) -> None:
        live = list(Contract.objects.filter(pk__in=self.contracts, status=ContractStatus.ACTIVE))
        if not live:
            return
        contract = self.rng.choice(live)
        try:
            delivery, _created = markets_services.delivery_record(
                actor=SYSTEM,
                contract=contract.pk,
                delivered_on=TODAY - timedelta(days=self.rng.randrange(0, 150)),
                quality_grade="a",
                weight_kg=str(Decimal(self.rng.randrange(100, 90_000)) / 100),
                today=TODAY,
            )
        except (RegistryError, ValidationError):
            return
        self.deliveries.append(delivery.pk)

    def delivery_move(self) -> None:
        if not self.deliveries:
            return
        delivery = Delivery.objects.get(pk=self.rng.choice(self.deliveries))
        # Mostly accepted then paid, sometimes rejected (or a move the workflow refuses).
        to = self.rng.choice([DeliveryStatus.ACCEPTED, DeliveryStatus.PAID])
        if self.rng.random() < 0.25:
            to = DeliveryStatus.REJECTED
        with contextlib.suppress(RegistryError, ValidationError):
            markets_services.delivery_transition(
                actor=SYSTEM,
                delivery=delivery,
                to=to,
                rejection_reason="moisture",
                payment_reference="OP-123",
                paid_on=delivery.delivered_on,
                today=TODAY,
            )


SYSTEM = Actor(unrestricted=True)
SIDE_MOVES = (
    TitleStatus.OBSERVED,
    TitleStatus.SUNARP_OBSERVED,
    TitleStatus.REJECTED,
    TitleStatus.WITHDRAWN,
)
MOVES = ["register", "approve", "approve", "deactivate", "move", "support", "support"]
MOVES += ["evidence", "evidence", "evidence", "sweep", "merge", "seeded"]
# Title files, contracts and deliveries, with the household moves that change their cells
# (merges move them) or not (district and programme changes, review).
APP_MOVES = ["title_file", "title_move", "title_move", "title_move", "title_move", "title_move"]
APP_MOVES += ["contract", "contract_move", "deliver", "deliver", "deliver"]
APP_MOVES += ["delivery_move", "delivery_move", "delivery_move"]
APP_MOVES += ["merge", "move", "deactivate", "register", "approve"]


@pytest.mark.parametrize("seed", range(6))
def test_summaries_equal_a_full_recomputation_after_random_changes(
    program: Program, partner: Organization, seed: int
) -> None:
    rng = random.Random(seed)
    world = World(program, partner, rng)
    for _n in range(4):
        world.seeded()
        world.register()
    for step in range(30):
        getattr(world, rng.choice(MOVES))()
        if step % 10 == 9:
            assert_equal_to_rebuild()
    assert_equal_to_rebuild()
    # The test moved households: the tables are not trivially empty.
    state = table_state()
    assert state["households"] and state["stages"]


@pytest.mark.parametrize("seed", range(4))
def test_title_and_sales_summaries_equal_a_full_recomputation_after_random_changes(
    program: Program, partner: Organization, seed: int
) -> None:
    """Title files filed and moved, contracts signed and moved, deliveries recorded, accepted,
    rejected and paid, households merged (their files, contracts and deliveries follow)."""
    rng = random.Random(seed)
    world = World(program, partner, rng)
    for _n in range(3):
        world.seeded()
    for _n in range(2):
        world.title_file()
        world.contract()
        world.deliver()
    for step in range(45):
        getattr(world, rng.choice(APP_MOVES))()
        if step % 15 == 14:
            assert_equal_to_rebuild()
    assert_equal_to_rebuild()
    # The files, contracts and deliveries moved: the tables are not trivially empty.
    state = table_state()
    assert state["title_months"] and state["title_open"]
    assert state["sales"] and state["contracts"]


def test_the_tables_hold_the_known_figures(program: Program, partner: Organization) -> None:
    """One household through the services, cell by cell."""
    world = World(program, partner, random.Random(1))
    world.register()
    [household] = world.households
    assert table_state()["households"] == {}  # pending review: not counted
    services.household_transition(
        actor=world.supervisor, household=household, to=HouseholdStatus.ACTIVE
    )
    month = timezone.localtime(household.created_at).date().replace(day=1)  # Lima's month
    state = table_state()
    where = (household.district_id, household.program_id)
    assert state["households"] == {(*where, Stage.ENROLLED, False): (1,)}
    [(key, value)] = state["stages"].items()
    assert key[2:] == (month, Stage.ENROLLED) and value == (1, 0)
    services.support_record(
        actor=world.officer,
        household=household.pk,
        kind="inputs",
        cost_pen="12.34",
        given_on=month,
        funding_source=None,
    )
    [(key, value)] = table_state()["spend"].items()
    assert key[2:] == ("", month) and value == (1234, 1)


def test_the_rebuild_command(program: Program, partner: Organization) -> None:
    world = World(program, partner, random.Random(2))
    for _n in range(3):
        world.seeded()
    out = io.StringIO()
    call_command("rebuild_dashboard_summaries", stdout=out)
    assert "households" in out.getvalue()
    assert sum(v[0] for v in table_state()["households"].values()) == 3


@pytest.mark.parametrize("seed", [3, 7])
def test_compaction_folds_the_delta_rows_and_keeps_every_cell(
    program: Program, partner: Organization, seed: int
) -> None:
    """Writers append delta rows (no writer waits for another's cell); compaction folds them
    into one row per cell without changing any cell, and the tables still equal a rebuild."""
    rng = random.Random(seed)
    world = World(program, partner, rng)
    for _n in range(4):
        world.seeded()
        world.register()
    for _step in range(20):
        getattr(world, rng.choice(MOVES))()
    before = table_state()
    rows_before = {p: m.objects.count() for p, (m, _k, _v) in summaries.TABLES.items()}
    left = summaries.compact()
    assert table_state() == before
    for part, (model, keys, _values) in summaries.TABLES.items():
        assert left[part] == len(before[part]) <= rows_before[part]
        assert model.objects.values(*keys).distinct().count() == model.objects.count()
    assert_equal_to_rebuild()
