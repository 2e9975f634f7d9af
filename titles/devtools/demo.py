"""Demo title files for the embedded default: a dozen of the demo families' plots filed with
the regional agrarian directorates, in every state of the workflow, all through the services.

Deterministic ids (uuid5) make it idempotent: a second run finds every file in place and moves
nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone, translation
from django.utils.text import slugify

from farmers.devtools.demo import demo_child_id, demo_households
from farmers.models import Household, Plot
from registry.actors import Actor
from registry.choices import OrganizationKind
from registry.devtools import Writer
from registry.exceptions import RegistryError
from registry.models import District, Organization
from registry.services import organization_upsert

from .. import services
from ..choices import Procedure, TitleDocumentType, TitleStatus
from ..models import TitleApplication

NAMESPACE = uuid.UUID("0b7c4a52-3d0e-4f7e-9a51-6c2f1e8d9a20")
AUTHORITY_BY_DEPARTMENT = {"08": "dra-cusco", "05": "dra-ayacucho", "12": "dra-junin"}
S = TitleStatus
# The path each demo file walks (its last state is where it stays), with days ago for each move.
PATHS: list[list[str]] = [
    [],
    [S.SUBMITTED],
    [S.SUBMITTED, S.SURVEYED],
    [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW],
    [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE],
    [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE, S.TITLE_ISSUED],
    [S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW, S.PUBLIC_NOTICE, S.TITLE_ISSUED, S.SENT_TO_SUNARP],
    [
        S.SUBMITTED,
        S.SURVEYED,
        S.LEGAL_REVIEW,
        S.PUBLIC_NOTICE,
        S.TITLE_ISSUED,
        S.SENT_TO_SUNARP,
        S.REGISTERED,
    ],
    [S.SUBMITTED, S.OBSERVED],
    [S.SUBMITTED, S.SURVEYED, S.REJECTED],
    [S.WITHDRAWN],
    [S.SUBMITTED],
]
FILES = len(PATHS)
# Every third family claims private land by administrative prescription; the others are
# adjudicated state land. Possession dates satisfy both (years and the adjudication cut-off).
PRESCRIPTION_FILES = frozenset(range(1, FILES, 3))
FILING_DOCUMENTS = [
    TitleDocumentType.ID_COPY,
    TitleDocumentType.PROOF_OF_POSSESSION,
    TitleDocumentType.PLOT_PLAN,
    TitleDocumentType.NEIGHBOUR_STATEMENT,
]


def _pdf(label: str) -> ContentFile[bytes]:
    """A tiny PDF named as a person would name it (the document type in Spanish)."""
    with translation.override("es"):
        name = slugify(str(TitleDocumentType(label).label))
    return ContentFile(f"%PDF-1.4\n% demo {label}\n%%EOF\n".encode(), name=f"{name}.pdf")


def _authority(household: Household) -> Organization:
    code = AUTHORITY_BY_DEPARTMENT.get(household.district_id[:2], "dra-junin")
    organization = Organization.objects.filter(code=code).first()
    if organization is None:
        organization, _created = organization_upsert(
            code=code,
            kind=OrganizationKind.TITLING_AUTHORITY,
            name="Dirección Regional Agraria Junín (demo)",
            district_ubigeos=list(
                District.objects.filter(ubigeo__startswith="1206").values_list("ubigeo", flat=True)
            ),
        )
    return organization


def _walk(actor: Actor, application: TitleApplication, path: list[str], start: date) -> None:
    """Move a new demo file along ``path``, one move every few weeks from ``start``, each act
    dated (``on``) in order; the title issues the day after the notice's last day at the
    earliest."""
    day = start
    filing: list[str] = list(FILING_DOCUMENTS)
    if application.procedure == Procedure.PRESCRIPTION:
        filing.append(TitleDocumentType.CADASTRAL_SEARCH)
    kind_for: dict[str, list[str]] = {
        S.SUBMITTED: filing,
        S.SURVEYED: [TitleDocumentType.SURVEY_RECORD],
    }
    for step, target in enumerate(path):
        day += timedelta(days=12 + 7 * step)
        day = min(day, timezone.localdate())
        for kind in kind_for.get(target, []):
            services.document_upload(
                actor=actor, application=application.pk, type=kind, file=_pdf(kind)
            )
        if target == S.TITLE_ISSUED and application.notice_ends_on is not None:
            day = max(day, application.notice_ends_on + timedelta(days=1))
        extra: dict[str, Any] = {}
        if target == S.REGISTERED:
            extra = {
                "partida_number": f"1100{int(application.pk.hex[:6], 16) % 10**4:04d}",
                "registered_on": day,
                "registry_zone": "Zona Registral X - Cusco",
            }
        if target in (S.OBSERVED, S.WITHDRAWN):
            extra = {"note": "Falta la constancia de posesión firmada por los colindantes."}
        if target == S.REJECTED:
            extra = {"reason": "protected_area"}
        application = services.title_application_transition(
            actor=actor, application=application.pk, to=target, channel="demo", today=day, **extra
        )


def seed_demo_titles(write: Writer) -> None:
    """File (or find) the demo title applications and walk each to its state."""
    officer = get_user_model().objects.filter(username="tecnico.pichari").first()
    if officer is None:
        return
    actor = Actor(user=officer, unrestricted=True)
    today = timezone.localdate()
    created = 0
    families = demo_households(active_only=True)
    title_ids = []
    for n in range(FILES):
        household = families.get(n)
        plot = (
            Plot.objects.filter(pk=demo_child_id("plot", household.pk)).first()
            if household is not None
            else None
        )
        if household is None or plot is None:
            continue
        title_id = uuid.uuid5(NAMESPACE, f"title-{household.pk}")
        title_ids.append(title_id)
        try:
            application, was_created = services.title_application_create(
                actor=actor,
                id=title_id,
                household=household.pk,
                plot=plot.pk,
                authority=_authority(household).code,
                procedure=Procedure.PRESCRIPTION
                if n in PRESCRIPTION_FILES
                else Procedure.ADJUDICATION,
                possession_started_on=date(2008 + n % 10, 1 + n % 12, 1),
                channel="demo",
            )
            if was_created:
                created += 1
                _walk(actor, application, PATHS[n], today - timedelta(days=300 - 10 * n))
        except RegistryError as exc:
            write(f"Demo title {n}: {exc.detail}")
    total = TitleApplication.objects.filter(pk__in=title_ids).count()
    write(f"Demo title files: {total} ({created} new)")
