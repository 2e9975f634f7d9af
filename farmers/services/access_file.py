"""The answer to an access request (Law 29733, right of access): everything the registry holds
about the person, as a JSON document or an XLSX workbook with one sheet per section (Spanish
sheet names).

Sections: the request, the household, its members (the person's row first), plots, verification
visits, agreements, eradications, support, consents, exclusion proposals, appeals, the change
history of these records (``ChangeRecord``), who read the household's sensitive data
(``AccessLog`` rows naming it), and what the apps above ``farmers`` add through
``farmers.rights_sections`` (title files, contracts, deliveries). Programme staff only
(``policies.request_q``); each download is itself logged as a read.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from registry.actors import Actor
from registry.exceptions import NotFound
from registry.history import access_log_record
from registry.models import AccessLog, ChangeRecord

from .. import policies
from ..models import (
    Agreement,
    Appeal,
    Consent,
    DataSubjectRequest,
    Eradication,
    ExclusionProposal,
    Member,
    Plot,
    Support,
    Verification,
)
from ..rights_sections import access_sections, plain, record_rows

# Section → sheet name in the workbook (Spanish, at most 31 characters).
SHEETS = {
    "request": "Solicitud",
    "household": "Hogar",
    "members": "Miembros",
    "plots": "Parcelas",
    "visits": "Visitas",
    "agreements": "Acuerdos",
    "eradications": "Erradicaciones",
    "support": "Apoyos",
    "consents": "Consentimientos",
    "exclusion_proposals": "Propuestas de exclusión",
    "appeals": "Apelaciones",
    "title_files": "Expedientes de titulación",
    "title_status_changes": "Historial de titulación",
    "title_objections": "Oposiciones a titulación",
    "title_documents": "Documentos de titulación",
    "offers": "Ofertas a compradores",
    "contracts": "Contratos",
    "deliveries": "Entregas",
    "history": "Historial de cambios",
    "reads": "Lecturas de sus datos",
}


def _visible_request(actor: Actor, request: Any) -> DataSubjectRequest:
    pk = request.pk if isinstance(request, DataSubjectRequest) else request
    found = (
        DataSubjectRequest.objects.select_related("household", "member")
        .filter(policies.request_q(actor))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def access_data(*, actor: Actor, request: Any) -> dict[str, list[dict[str, Any]]]:
    """Everything held about the request's person (and household), by section."""
    found = _visible_request(actor, request)
    household = found.household
    members = list(Member.objects.filter(household=household))
    if found.member_id is not None:
        members.sort(key=lambda m: m.pk != found.member_id)
    plots = list(Plot.objects.filter(household=household).order_by("created_at", "id"))
    visits = list(Verification.objects.filter(household=household).order_by("visited_on", "id"))
    data: dict[str, list[dict[str, Any]]] = {
        "request": record_rows([found]),
        "household": record_rows([household], exclude=("request_hash", "head_name_search")),
        "members": record_rows(members),
        "plots": record_rows(plots),
        "visits": record_rows(visits),
        "agreements": record_rows(Agreement.objects.filter(household=household).order_by("id")),
        "eradications": record_rows(
            Eradication.objects.filter(household=household).order_by("eradicated_on", "id")
        ),
        "support": record_rows(Support.objects.filter(household=household).order_by("id")),
        "consents": record_rows(Consent.objects.filter(household=household).order_by("id")),
        "exclusion_proposals": record_rows(
            ExclusionProposal.objects.filter(household=household).order_by("created_at")
        ),
        "appeals": record_rows(Appeal.objects.filter(household=household).order_by("created_at")),
    }
    for section in access_sections().values():
        data.update(section(household))
    ids = [str(household.pk), *(str(r.pk) for r in (*plots, *visits))]
    ids += [str(pk) for pk in household.data_subject_requests.values_list("pk", flat=True)]
    data["history"] = [
        {
            "at": plain(record.at),
            "record_type": str(record.content_type.name),
            "record": record.object_repr,
            "action": record.action,
            "changes": record.changes,
            "by": str(record.created_by) if record.created_by_id else "",
            "channel": record.channel,
        }
        for record in ChangeRecord.objects.filter(object_id__in=ids)
        .select_related("content_type", "created_by")
        .order_by("at", "id")
    ]
    data["reads"] = [
        {
            "at": plain(log.at),
            "by": str(log.created_by) if log.created_by_id else "",
            "organization": str(log.organization) if log.organization_id else "",
            "resource": log.resource,
            "fields": log.fields,
        }
        for log in AccessLog.objects.annotate(ids_text=Cast("object_ids", TextField()))
        .filter(ids_text__contains=str(household.pk))
        .select_related("created_by", "organization")
        .order_by("at", "id")
    ]
    access_log_record(
        actor=actor,
        resource="data_subject_access",
        object_ids=[str(household.pk)],
        fields=sorted(data),
    )
    return data


def access_json(*, actor: Actor, request: Any) -> bytes:
    """The access file as JSON (UTF-8, indented)."""
    data = access_data(actor=actor, request=request)
    document = {"generated_at": timezone.now().isoformat(), **data}
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    return value


def access_xlsx(*, actor: Actor, request: Any) -> bytes:
    """The access file as an XLSX workbook, one sheet per section (Spanish names)."""
    from openpyxl import Workbook

    data = access_data(actor=actor, request=request)
    book = Workbook()
    book.remove(book.active)
    for section, rows in data.items():
        sheet = book.create_sheet(SHEETS.get(section, section)[:31])
        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
