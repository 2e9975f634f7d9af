"""``reports/iati/``: a programme's year as an IATI 2.03 ``iati-activities`` file (XML).

Read by the programme's staff and its funders (``registry.policies.can_read_program_report``),
with scope ``indicators:read``; the file holds aggregates only (``farmers.reporting.iati``).
Errors keep the registry's JSON shape whatever the ``Accept`` header asks for."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from registry import policies
from registry.api.authentication import get_actor
from registry.api.schema import ErrorSerializer
from registry.choices import Scope
from registry.exceptions import NotFound, PermissionDenied
from registry.models import Program

from .iati import iati_activities

FIRST_YEAR = 1990
IGNORED_PARAMETERS = {"format", "lang"}
XML = "application/xml"


class IatiQuerySerializer(serializers.Serializer[Any]):
    """Query parameters of ``reports/iati/``."""

    program = serializers.SlugField(
        max_length=50, help_text=gettext_lazy("Programme code (e.g. pirdais).")
    )
    year = serializers.IntegerField(
        min_value=FIRST_YEAR,
        help_text=gettext_lazy("Calendar year reported (the running year: up to today)."),
    )

    def validate_year(self, value: int) -> int:
        if value > timezone.localdate().year:
            raise serializers.ValidationError(
                _("The year has not started yet."), code="date_out_of_range"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields) - IGNORED_PARAMETERS)
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [
                        _("Unknown parameter: this report accepts %(names)s.")
                        % {"names": ", ".join(sorted(self.fields))}
                    ]
                    for name in unknown
                },
                code="unknown_parameter",
            )
        return attrs


class JsonErrorsXmlFile(BaseContentNegotiation):
    """The file is XML whatever the client accepts, and errors are JSON (the one error shape):
    no 406 for ``Accept: application/xml``."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None


class IatiReportView(APIView):
    """A programme's year as an IATI activity (version 2.03): organizations, budget, costs by
    funding source, districts and result indicators; aggregates only."""

    read_scope = Scope.INDICATORS_READ
    http_method_names = ["get", "head", "options"]
    content_negotiation_class = JsonErrorsXmlFile

    @extend_schema(
        parameters=[IatiQuerySerializer],
        responses={
            (200, XML): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="An iati-activities file (IATI 2.03) with one iati-activity.",
            ),
            409: OpenApiResponse(
                response=ErrorSerializer,
                description="iati_identifier_missing: neither the programme nor its agency "
                "has an IATI identifier (nor the agency a RUC).",
            ),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        params = IatiQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        code: str = params.validated_data["program"]
        year: int = params.validated_data["year"]
        program = Program.objects.select_related("agency", "funder").filter(code=code).first()
        if program is None:
            raise NotFound(_("Unknown programme code."), attr="program")
        if not policies.can_read_program_report(get_actor(request), program):
            raise PermissionDenied(
                _("Only the programme's staff and its funders may read its IATI file."),
                code="not_programme_reader",
            )
        response = HttpResponse(
            iati_activities(program=program, year=year), content_type=f"{XML}; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="iati-{program.code}-{year}.xml"'
        return response
