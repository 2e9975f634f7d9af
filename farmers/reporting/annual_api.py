"""``reports/annual/``: the annual results report (scope ``indicators:read``), as JSON or as an
XLSX workbook (``format=xlsx`` or ``Accept`` the workbook's media type). Aggregates only, small
cells suppressed as in ``indicators/`` (``farmers.reporting.annual``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.authentication import get_actor
from registry.api.fields import BoundedDateField
from registry.choices import Scope

from . import annual
from .annual_output import XLSX_MEDIA_TYPE, report_data, report_workbook
from .api import AreaFilterSerializer
from .indicators import IndicatorQuery

IGNORED_PARAMETERS = {"lang"}


class XlsxRenderer(BaseRenderer):
    """The report's workbook (bytes built by the view); errors stay JSON in the one shape."""

    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


class AnnualQuerySerializer(AreaFilterSerializer):
    """Query parameters of ``reports/annual/``."""

    year = serializers.IntegerField(
        required=False,
        min_value=1990,
        max_value=2100,
        help_text=gettext_lazy("Calendar year (default: the current one, unless from/to)."),
    )
    program = serializers.SlugField(required=False, max_length=50)
    funder = serializers.SlugField(
        required=False,
        max_length=50,
        help_text=gettext_lazy(
            "Organization code of a funder: households of the programmes it funds; spend and "
            "training only its own."
        ),
    )
    format = serializers.ChoiceField(
        choices=["json", "xlsx"], required=False, help_text="json (default) or xlsx"
    )
    to = BoundedDateField(
        kind="period", required=False, help_text=gettext_lazy("Last day of the period.")
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = BoundedDateField(
            kind="period", required=False, help_text=_("First day of the period (YYYY-MM-DD).")
        )
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields) - IGNORED_PARAMETERS)
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [
                        _("Unknown parameter: the annual report accepts %(names)s.")
                        % {"names": ", ".join(sorted(self.fields))}
                    ]
                    for name in unknown
                },
                code="unknown_parameter",
            )
        if attrs.get("year") and (attrs.get("from") or attrs.get("to")):
            raise serializers.ValidationError(
                {"year": [_("Give either a year or a period (from, to), not both.")]},
                code="invalid_period",
            )
        if attrs.get("year"):
            attrs["from"], attrs["to"] = date(attrs["year"], 1, 1), date(attrs["year"], 12, 31)
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError(
                {"from": [_("The period starts after it ends: choose a date on or before “to”.")]},
                code="invalid_period",
            )
        return attrs


def report_query(data: dict[str, Any], *, suppress: bool = True) -> IndicatorQuery:
    """The report's query from validated parameters."""
    return IndicatorQuery(
        metric="annual",
        group_by=(),
        program=data.get("program") or None,
        funder=data.get("funder") or None,
        district=data.get("district") or None,
        province=data.get("province") or None,
        department=data.get("department") or None,
        vraem=data.get("vraem"),
        date_from=data.get("from"),
        date_to=data.get("to"),
        suppress=suppress,
    )


class ValuesField(serializers.DictField):
    """A cell's figures by name: integers (counts), decimal strings (hectares, kg, PEN, days)
    or ``null`` when suppressed."""

    child = serializers.JSONField()


class AnnualCellSerializer(serializers.Serializer[Any]):
    """One cell: an area of a level, a group of a disaggregation and a key of the section."""

    level = serializers.ChoiceField(choices=[c for c, _l in annual.LEVELS])
    area = serializers.CharField(help_text="total, department or province code, ubigeo, in/out")
    area_label = serializers.CharField()
    split = serializers.ChoiceField(choices=[c for c, _l in annual.SPLITS])
    group = serializers.CharField(help_text="all, sex (f/m/unknown), age band, community")
    group_label = serializers.CharField()
    key = serializers.CharField(help_text="The section's key (stage, crop, kind, funder…)")
    key_label = serializers.CharField()
    values = ValuesField()
    suppressed = serializers.BooleanField()


class AnnualFigureSerializer(serializers.Serializer[Any]):
    """A figure of a section."""

    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField(help_text="count, set, ha, kg, pen or days")


class AnnualSectionSerializer(serializers.Serializer[Any]):
    """A section of the report."""

    name = serializers.CharField()
    title = serializers.CharField()
    key_title = serializers.CharField()
    figures = AnnualFigureSerializer(many=True)
    cells = AnnualCellSerializer(many=True)


class AnnualFiltersSerializer(serializers.Serializer[Any]):
    """The filters applied."""

    program = serializers.CharField(allow_null=True)
    funder = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    province = serializers.CharField(allow_null=True)
    district = serializers.CharField(allow_null=True)
    vraem = serializers.BooleanField(allow_null=True)


class AnnualReportSerializer(serializers.Serializer[Any]):
    """The annual results report: aggregates only, no personal data."""

    period_from = serializers.DateField()
    period_to = serializers.DateField()
    generated_on = serializers.DateField()
    figures_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=gettext_lazy(
            "When the figures were computed, if the report was read from the rows stored for "
            "a calendar year (refreshed nightly after the sweep); null: computed for this request."
        ),
    )
    filters = AnnualFiltersSerializer()
    suppression_threshold = serializers.IntegerField()
    sections = AnnualSectionSerializer(many=True)


class AnnualReportView(APIView):
    """The annual results report of the caller's area for a year or period: families served,
    stages and tenure, licit and coca hectares, producer organisations, titles, sales,
    training, spend and cost per result, by area and the head's sex, age band and community."""

    read_scope = Scope.INDICATORS_READ
    http_method_names = ["get", "head", "options"]
    renderer_classes = [JSONRenderer, XlsxRenderer]

    @extend_schema(
        parameters=[AnnualQuerySerializer],
        responses={
            200: OpenApiResponse(
                AnnualReportSerializer, description="JSON, or the XLSX workbook (format=xlsx)"
            ),
            (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response:
        params = AnnualQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        report = annual.annual_report(
            actor=get_actor(request), query=report_query(params.validated_data)
        )
        if request.accepted_renderer.format == "xlsx":
            filename = f"informe-anual-{report.period_from:%Y%m%d}-{report.period_to:%Y%m%d}.xlsx"
            return Response(
                report_workbook(report),
                content_type=XLSX_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response(report_data(report))
