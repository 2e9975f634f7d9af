"""``indicators/``: aggregate indicators for funders (scope ``indicators:read``).

Only aggregates leave this endpoint: counts, rates and costs per cell of district, programme,
stage and month, never a household id, name or any other personal data; cells under 5
households are suppressed (see ``farmers.reporting.indicators`` for the exact rule).
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from farmers.choices import Stage
from farmers.reporting import indicators
from registry.api.authentication import get_actor
from registry.api.fields import BoundedDateField
from registry.choices import Scope

DIMENSION_RE = "(district|program|stage|month|sex)"
GROUP_BY_PATTERN = rf"^{DIMENSION_RE}(,{DIMENSION_RE})*$"
# Parameters of the API itself rather than of the query (content negotiation).
IGNORED_PARAMETERS = {"format", "lang"}


class AreaFilterSerializer(serializers.Serializer[Any]):
    """The area filters every aggregate read takes (indicators, the annual report): a district,
    province or department by its INEI code, and the VRAEM zone."""

    district = serializers.CharField(
        required=False,
        validators=[RegexValidator(r"\A[0-9]{6}\Z", gettext_lazy("Use the 6-digit INEI ubigeo."))],
    )
    department = serializers.CharField(
        required=False,
        validators=[
            RegexValidator(r"\A[0-9]{2}\Z", gettext_lazy("Use the 2-digit INEI department code."))
        ],
    )
    province = serializers.CharField(
        required=False,
        validators=[
            RegexValidator(r"\A[0-9]{4}\Z", gettext_lazy("Use the 4-digit INEI province code."))
        ],
    )
    vraem = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("true: only VRAEM districts; false: only districts outside it."),
    )


class IndicatorQuerySerializer(AreaFilterSerializer):
    """Query parameters of ``indicators/``."""

    metric = serializers.ChoiceField(
        choices=indicators.METRICS,
        default="households",
        help_text=gettext_lazy(
            "households (by stage now, or at each month's end), flows (stage changes), "
            "relapse_rate, cost_per_household, tenure (households holding secure tenure) or "
            "producer_organisations (members of producer organisations and their sales "
            "through them) or "
            "training (events attended, attendees and their households, by sex); the annual "
            "report's figures: families_served, licit_hectares, coca_reduced, titles, sales, "
            "spend (by key; the period defaults to the current year)."
        ),
    )
    group_by = serializers.RegexField(
        GROUP_BY_PATTERN,
        required=False,
        allow_blank=True,
        max_length=60,
        help_text=gettext_lazy(
            "Comma-separated dimensions: district, program, stage, month, sex (training "
            "only). Those that do not "
            "apply to the metric are ignored (the response's group_by lists the ones used). "
            "Default: stage for households, month for flows, program for relapse_rate, "
            "cost_per_household, tenure and producer_organisations; program,sex for training."
        ),
    )
    program = serializers.CharField(required=False, allow_blank=True, max_length=50)
    funder = serializers.SlugField(
        required=False,
        max_length=50,
        help_text=gettext_lazy(
            "Organization code of a funder: households of the programmes it funds (and, for "
            "cost_per_household, only its own spend)."
        ),
    )
    # ``from`` is a Python keyword: declared below under its real name.
    to = BoundedDateField(
        kind="period",
        required=False,
        help_text=gettext_lazy("Last day of the period (YYYY-MM-DD)."),
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = BoundedDateField(
            kind="period", required=False, help_text=_("First day of the period (YYYY-MM-DD).")
        )
        return fields

    def validate_group_by(self, value: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p in value.split(",") if p))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields) - IGNORED_PARAMETERS)
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [
                        _("Unknown parameter: the indicators accept %(names)s.")
                        % {"names": ", ".join(sorted(self.fields))}
                    ]
                    for name in unknown
                },
                code="unknown_parameter",
            )
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError(
                {"from": [_("The period starts after it ends: choose a date on or before “to”.")]},
                code="invalid_period",
            )
        metric = attrs["metric"]
        group_by = attrs.get("group_by") or indicators.DEFAULT_GROUP_BY[metric]
        allowed = indicators.METRIC_DIMENSIONS[metric]
        attrs["group_by"] = tuple(d for d in group_by if d in allowed)
        return attrs


def _decimal(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, help_text=help_text
    )


class IndicatorCellSerializer(serializers.Serializer[Any]):
    """One cell. Dimension fields appear when grouped by them; value fields per metric:
    ``households`` (households, flows, cost_per_household, tenure: households holding tenure),
    ``from_stage``/``to_stage``
    (flows), ``households_reached``/``households_relapsed``/``relapse_rate`` (relapse_rate),
    ``funding_source``/``total_cost_pen``/``cost_per_household_pen`` (cost_per_household),
    ``households``/``organisations``/``delivered_kg``/``sales_pen`` (producer_organisations).
    ``events``/``attendees``/``households`` (training, with ``sex``).
    Suppressed cells carry ``null`` values and ``suppressed: true``."""

    district = serializers.CharField(required=False, help_text="INEI ubigeo")
    program = serializers.CharField(required=False, help_text="Programme code")
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    month = serializers.RegexField(r"^[0-9]{4}-[0-9]{2}$", required=False, help_text="YYYY-MM")
    sex = serializers.CharField(
        required=False,
        help_text="f or m: the attendee's sex (training); the head's sex, or unknown "
        "(annual-report metrics)",
    )
    from_stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    to_stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    funding_source = serializers.CharField(
        required=False, allow_null=True, help_text="Organization code (null: not recorded)"
    )
    households = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    households_reached = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    households_relapsed = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    relapse_rate = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    total_cost_pen = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    cost_per_household_pen = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    organisations = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="Producer organisations the cell's member households belong to",
    )
    delivered_kg = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Accepted kg the cell's households sold through producer organisations",
    )
    sales_pen = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Their value (PEN)",
    )
    events = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    attendees = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    key = serializers.CharField(
        required=False,
        help_text="Annual-report metrics: the cell's key (see docs/indicators.md), e.g. served, "
        "stage:coca_free, a crop, voluntary/forced, issued/registered, a product form, a "
        "funder's code, total",
    )
    installed_ha = _decimal("Licit hectares installed in the period")
    maintained_ha = _decimal("Licit hectares in maintenance")
    observed_ha = _decimal("Licit hectares seen at visits (families without installations)")
    hectares = _decimal("Coca hectares reduced")
    titles = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    days_to_title = _decimal("Average days from submission to title")
    kg = _decimal("Kilograms sold (one product form)")
    support_pen = _decimal("Support given (PEN)")
    training_pen = _decimal("Training events' cost (PEN)")
    total_pen = _decimal("Total spend (PEN)")
    suppressed = serializers.BooleanField()


class IndicatorResponseSerializer(serializers.Serializer[Any]):
    """Aggregates of one metric; no personal data."""

    metric = serializers.ChoiceField(choices=indicators.METRICS)
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=indicators.DIMENSIONS))
    suppression_threshold = serializers.IntegerField(
        help_text="Cells counting fewer households than this are suppressed."
    )
    period_from = serializers.DateField(allow_null=True)
    period_to = serializers.DateField(allow_null=True)
    figures_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=gettext_lazy(
            "For the annual report's metrics read from the rows stored for a calendar year "
            "(refreshed nightly after the sweep): when they were computed. Null: computed for "
            "this request."
        ),
    )
    results = IndicatorCellSerializer(many=True)


class IndicatorView(APIView):
    """Aggregate indicators of the caller's area: households by stage, district, programme and
    month; flows between stages; relapse rate; cost per household reaching each stage."""

    read_scope = Scope.INDICATORS_READ
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=[IndicatorQuerySerializer], responses=IndicatorResponseSerializer)
    def get(self, request: Request) -> Response:
        params = IndicatorQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = indicators.IndicatorQuery(
            metric=data["metric"],
            group_by=data["group_by"],
            program=data.get("program") or None,  # blank: every programme
            district=data.get("district"),
            department=data.get("department"),
            province=data.get("province"),
            vraem=data.get("vraem"),
            funder=data.get("funder"),
            date_from=data.get("from"),
            date_to=data.get("to"),
            suppress=True,
        )
        results, figures_as_of = indicators.indicator_result(actor=get_actor(request), query=query)
        return Response(
            {
                "metric": query.metric,
                "group_by": list(query.group_by),
                "suppression_threshold": indicators.SUPPRESSION_THRESHOLD,
                "period_from": query.date_from,
                "period_to": query.date_to,
                "figures_as_of": figures_as_of,
                "results": results,
            }
        )
