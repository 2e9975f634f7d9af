"""Demo families for the embedded default: realistic VRAEM households registered, reviewed,
with plots, agreements and visits, all through the services (so they obey every rule).

Idempotent without guessable ids: each family is found again by its reference (``demo-N`` in
``Household.import_ref``); household ids are random (uuid4), and the ids of a family's plot,
agreement and visit derive from that random id, so nobody can compute them from outside.
"""

from __future__ import annotations

import random
import struct
import uuid
import zlib
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from registry.actors import Actor
from registry.devtools import Writer
from registry.exceptions import RegistryError
from registry.models import Program

from .. import services
from ..choices import HouseholdStatus, Relationship, VerificationStatus
from ..models import Household, Plot, Verification
from ..names import COMMUNITIES, GIVEN_FEMALE, GIVEN_MALE, SURNAMES

NAMESPACE = uuid.UUID("6f1f6c3e-8f1e-4d55-9d0b-3c1e9a6a5b10")
DEMO_DISTRICTS = {
    # ubigeo: (lon, lat) near the district capital, for plausible plots and visits
    "080910": (-73.97, -12.52),  # Pichari
    "080907": (-73.78, -12.61),  # Kimbiri
    "050407": (-73.86, -12.51),  # Sivia
    "050408": (-73.69, -12.36),  # Llochegua
    "120608": (-74.03, -11.50),  # Río Tambo
    "120606": (-74.49, -11.42),  # Pangoa
}
FAMILIES = 24
# The first families are those the markets demo contracts with: they grow cacao or coffee to sell,
# so their (confirmed, coca-free) visit found licit crops of 1 ha or more before the deliveries.
SELLING_FAMILIES = 12


def square(lon: float, lat: float, side_m: float) -> dict[str, object]:
    """A square plot of ``side_m`` metres with its south-west corner at ``(lon, lat)``."""
    dlat = side_m / 111_320
    dlon = side_m / (111_320 * 0.976)  # cos(12.5°)
    ring = [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat], [lon, lat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def demo_dni(rng: random.Random) -> str:
    """A plausible 8-digit DNI (the 8 digits carry no check digit of their own)."""
    return f"{rng.randint(40_000_000, 48_999_999)}"


DEMO_PROGRAM = "pirdais"


def demo_ref(n: int) -> str:
    """The reference of the ``n``-th demo family (its ``import_ref``)."""
    return f"demo-{n}"


def demo_households(*, active_only: bool = False) -> dict[int, Household]:
    """The demo families already seeded, by their number (one query)."""
    queryset = Household.objects.filter(
        program__code=DEMO_PROGRAM, import_ref__in=[demo_ref(n) for n in range(FAMILIES)]
    )
    if active_only:
        queryset = queryset.filter(status=HouseholdStatus.ACTIVE)
    return {int(h.import_ref.removeprefix("demo-")): h for h in queryset}


def demo_child_id(kind: str, household_id: uuid.UUID) -> uuid.UUID:
    """A stable id for one of a demo family's records (its plot, agreement, visit...), derived
    from the family's random id: reruns find it, outsiders cannot compute it."""
    return uuid.uuid5(NAMESPACE, f"{kind}-{household_id}")


def demo_photo() -> bytes:
    """A small valid PNG (8 × 8 green pixels): the demo visit's photo."""
    rows = b"".join(b"\x00" + b"\x2e\x7d\x32" * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def demo_visit(
    field: Actor,
    visit_id: uuid.UUID,
    plot: Plot,
    *,
    visited_on: date,
    licit: Decimal,
    coca_found: bool,
) -> Verification:
    """The demo family's visit: at its plot (GPS fix in the plot, the plot linked), licit crops
    no larger than the plot, coca found (0.25 ha) when ``coca_found``."""
    visit, _new = services.verification_create(
        actor=field,
        id=visit_id,
        household=plot.household_id,
        visited_on=visited_on,
        method="field_visit",
        coca_ha=Decimal("0.25") if coca_found else Decimal("0"),
        licit_crops=[{"crop": "cacao", "ha": str(licit)}],
        location={
            "lat": round((plot.min_lat + plot.max_lat) / 2, 6),
            "lon": round((plot.min_lon + plot.max_lon) / 2, 6),
        },
        plots=[plot.pk],
        channel="demo",
    )
    return visit


def seed_demo_families(write: Writer) -> None:
    """Register (or find) the demo families; approve most; add plots, agreements and visits."""
    program = Program.objects.filter(code="pirdais").first()
    users = get_user_model().objects
    officer = users.filter(username="tecnico.pichari").first()
    supervisor = users.filter(username="supervisor.vraem").first()
    if program is None or officer is None or supervisor is None:
        return
    # Seeding acts for the demo officer and supervisor, across the whole demo area.
    field = Actor(user=officer, unrestricted=True)
    review = Actor(user=supervisor, unrestricted=True)
    rng = random.Random(2026)
    today = timezone.localdate()
    created = 0
    seeded = demo_households()
    for n in range(FAMILIES):
        ubigeo = list(DEMO_DISTRICTS)[n % len(DEMO_DISTRICTS)]
        lon, lat = DEMO_DISTRICTS[ubigeo]
        head_f = n % 3 != 0
        surname_a, surname_b, surname_c = rng.sample(SURNAMES, 3)
        head = {
            "given_names": rng.choice(GIVEN_FEMALE if head_f else GIVEN_MALE),
            "surnames": f"{surname_a} {surname_b}",
            "document_type": "dni",
            "document_number": demo_dni(rng),
            "sex": "f" if head_f else "m",
            "birth_date": date(rng.randint(1962, 1995), rng.randint(1, 12), rng.randint(1, 28)),
            "relationship": Relationship.HEAD,
            "phone": f"+519{rng.randint(10_000_000, 99_999_999)}",
        }
        spouse = {
            "given_names": rng.choice(GIVEN_MALE if head_f else GIVEN_FEMALE),
            "surnames": f"{surname_c} {rng.choice(SURNAMES)}",
            "document_type": "dni",
            "document_number": demo_dni(rng),
            "sex": "m" if head_f else "f",
            "birth_date": date(rng.randint(1960, 1996), rng.randint(1, 12), rng.randint(1, 28)),
            "relationship": Relationship.SPOUSE,
        }
        child = {
            "given_names": rng.choice(GIVEN_FEMALE + GIVEN_MALE),
            "surnames": f"{surname_a} {surname_c}",
            "sex": rng.choice(["f", "m"]),
            "birth_date": date(rng.randint(2008, 2020), rng.randint(1, 12), rng.randint(1, 28)),
            "relationship": Relationship.CHILD,
        }
        earlier = seeded.get(n)
        try:
            household, was_created = services.household_register(
                actor=field,
                id=earlier.pk if earlier is not None else uuid.uuid4(),
                import_ref=demo_ref(n),
                program=program.code,
                district=ubigeo,
                community=rng.choice(COMMUNITIES),
                members=[head, spouse, child],
                consent={
                    "signed_on": today - timedelta(days=400 - n),
                    "purposes": ["registry", "partner_sharing", "buyer_sharing", "statistics"],
                },
                channel="demo",
            )
        except RegistryError:
            continue
        created += int(was_created)
        if household.status == HouseholdStatus.PENDING_REVIEW and n % 6 != 5:
            household = services.household_transition(
                actor=review, household=household, to=HouseholdStatus.ACTIVE, channel="demo"
            )
        sells = n < SELLING_FAMILIES and household.status == HouseholdStatus.ACTIVE
        side = rng.choice([80, 110, 140, 180])
        plot, _new = services.plot_create(
            actor=field,
            id=demo_child_id("plot", household.pk),
            household=household.pk,
            name="Chacra principal",
            tenure="possession",
            # A family that sells farms at least ~2 ha (its licit crops must fit in its plot).
            geometry=square(
                lon + 0.004 * n, lat + 0.002 * (n % 5), max(side, 140) if sells else side
            ),
            crops=[rng.choice(["cacao", "coffee"])],
            channel="demo",
        )
        if n % 4 != 3 or sells:
            services.agreement_create(
                actor=field,
                id=demo_child_id("agreement", household.pk),
                household=household.pk,
                signed_on=today - timedelta(days=300 - n),
                coca_ha_committed=Decimal(rng.choice(["0.50", "0.75", "1.00", "1.50"])),
                channel="demo",
            )
            licit = min(Decimal(_licit_ha(rng, sells)), plot.area_ha)
            visit_id = demo_child_id("visit", household.pk)
            # Found again as it is (a visit seeded before plots were linked keeps its payload).
            visit = Verification.objects.filter(pk=visit_id).first() or demo_visit(
                field,
                visit_id,
                plot,
                visited_on=today - timedelta(days=(130 if sells else 60) + n),
                licit=licit,
                coca_found=not (n % 5 or sells),
            )
            if visit.status == VerificationStatus.PENDING and (n % 2 == 0 or sells):
                if not visit.photo_sha256:
                    services.verification_attach_photo(
                        actor=field, verification=visit, photo=ContentFile(demo_photo(), "foto.png")
                    )
                services.verification_transition(
                    actor=review, verification=visit, to=VerificationStatus.CONFIRMED
                )
    total = len(demo_households())
    pending = Verification.objects.filter(status=VerificationStatus.PENDING).count()
    write(f"Demo families:    {total} households ({created} new), {pending} visits to review")


def _licit_ha(rng: random.Random, sells: bool) -> str:
    """The licit hectares a demo visit found (one draw either way, so the families after keep
    their names): 1 ha or more on the farms of families that sell."""
    licit = rng.choice(["0.80", "1.20", "1.60"])
    return "1.20" if sells and licit == "0.80" else licit


def seed_demo_support(write: Writer) -> None:
    """Record what the programme gave the demo families (inputs, technical assistance, titling
    fees), through the service, so the dashboard's cost per result has figures. Idempotent: a
    family that already has support recorded is skipped."""
    from ..models import Support

    users = get_user_model().objects
    officer = users.filter(username="tecnico.pichari").first()
    if officer is None:
        return
    field = Actor(user=officer, unrestricted=True)
    today = timezone.localdate()
    families = demo_households()
    ids = [h.pk for h in families.values()]
    live = {h.pk for h in families.values() if h.status == HouseholdStatus.ACTIVE}
    done = set(Support.objects.filter(household_id__in=ids).values_list("household_id", flat=True))
    recorded = 0
    for n, family in sorted(families.items()):
        hid = family.pk
        if hid not in live or hid in done:
            continue
        items = [("inputs", "850.00", "fondo-cooperacion", 200)]
        if n % 4 != 3:
            items.append(("technical_assistance", "320.00", "tesoro-pp0072", 120))
        if n % 3 == 0:
            items.append(("titling_fees", "180.00", "fondo-cooperacion", 60))
        for kind, cost, source, days_ago in items:
            services.support_record(
                actor=field,
                household=hid,
                kind=kind,
                cost_pen=Decimal(cost),
                given_on=today - timedelta(days=days_ago + n),
                funding_source=source,
                channel="demo",
            )
            recorded += 1
    write(f"Demo support:     {recorded} items recorded")


# The demo's training events: (key, days ago, topic, place, facilitator, cost, funder, agreement,
# which families' members attended: every family of the district whose number n % k == r).
DEMO_TRAININGS = [
    (
        "poda-injerto",
        30,
        "pruning_grafting",
        "Local comunal de Natividad",
        "Ing. Marco Paucar Ríos",
        "1250.00",
        "fondo-cooperacion",
        "fci-pirdais-2024",
        (4, 0),
    ),
    (
        "fermentado-secado",
        12,
        "post_harvest",
        "Centro de acopio Pichari",
        "Téc. Elena Huamaní Soto",
        "980,50",
        "tesoro-pp0072",
        "pp0072-2026",
        (1, 0),
    ),
]


def seed_demo_training(write: Writer) -> None:
    """Two training events in the first demo district with their attendance (the members of
    the district's active demo families), through the service. Idempotent: an event already
    seeded (its stable id) is left as it is; agreements whose period does not hold the date
    (the demo's clock moves) are left out."""
    from registry.models import FundingAgreement

    from ..models import TrainingEvent

    officer = get_user_model().objects.filter(username="tecnico.pichari").first()
    if officer is None:
        return
    field = Actor(user=officer, unrestricted=True)
    today = timezone.localdate()
    ubigeo = next(iter(DEMO_DISTRICTS))
    families = [
        (n, h)
        for n, h in sorted(demo_households(active_only=True).items())
        if h.district_id == ubigeo
    ]
    recorded = 0
    for key, days, topic, place, facilitator, cost, funder, agreement, (k, r) in DEMO_TRAININGS:
        event_id = uuid.uuid5(NAMESPACE, f"training-{key}")
        if TrainingEvent.objects.filter(pk=event_id).exists() or not families:
            continue
        held_on = today - timedelta(days=days)
        covering = FundingAgreement.objects.filter(
            code=agreement, starts_on__lte=held_on, ends_on__gte=held_on
        ).exists()
        members = [
            m.pk
            for n, family in families
            if n % k == r
            for m in family.members.filter(is_active=True)
        ]
        services.training_event_create(
            actor=field,
            id=event_id,
            program=DEMO_PROGRAM,
            district=ubigeo,
            date=held_on,
            topic=topic,
            place=place,
            facilitator=facilitator,
            cost_pen=cost,
            funding_source=funder,
            funding_agreement=agreement if covering else None,
            attendees=members,
            channel="demo",
        )
        recorded += 1
    write(f"Demo training:    {recorded} events recorded")


DEMO_VARIETIES = {
    "cacao": ["ccn51", "chuncho", "ics95", "tsh565", "trinitario"],
    "coffee": ["catimor", "typica", "caturra", "bourbon", "pache"],
}
PLANTS_PER_HA = {"cacao": 1100, "coffee": 4000}


def seed_demo_installations(write: Writer) -> None:
    """The crops standing on the demo families' main plots, through the service: the plot's
    crop (cacao or coffee) and a variety of it, on the hectares the family's visit found (so the
    stages the demo tells do not move), planted before 2020-12-31 on every third farm (what an
    EUDR due-diligence statement asks about) and in 2021–2024 elsewhere (all before the visit
    that saw them; the demo's support came later, so no installation names it). Idempotent (the
    installation's id derives from the family's random id)."""
    from ..models import CropInstallation

    users = get_user_model().objects
    officer = users.filter(username="tecnico.pichari").first()
    if officer is None:
        return
    field = Actor(user=officer, unrestricted=True)
    families = demo_households()
    recorded = 0
    for n, family in sorted(families.items()):
        plot = Plot.objects.filter(pk=demo_child_id("plot", family.pk)).first()
        visit = Verification.objects.filter(pk=demo_child_id("visit", family.pk)).first()
        install_id = demo_child_id("installation", family.pk)
        if plot is None or visit is None or CropInstallation.objects.filter(pk=install_id).exists():
            continue
        crop = (plot.crops or ["cacao"])[0]
        area = sum((Decimal(str(c.get("ha") or 0)) for c in visit.licit_crops or []), Decimal(0))
        area = min(area, plot.area_ha)
        if crop not in DEMO_VARIETIES or area <= 0:
            continue
        planted_on = (
            date(2012 + n % 8, n % 12 + 1, 1) if n % 3 == 0 else date(2021 + n % 4, n % 12 + 1, 1)
        )
        services.installation_create(
            actor=field,
            id=install_id,
            plot=plot.pk,
            crop=crop,
            variety=DEMO_VARIETIES[crop][n % 5],
            area_ha=area,
            plants=int(area * PLANTS_PER_HA[crop]),
            planting_date=planted_on,
            channel="demo",
        )
        recorded += 1
    total = CropInstallation.objects.filter(household__in=list(families.values())).count()
    write(f"Demo crops:       {total} crop installations ({recorded} new)")
