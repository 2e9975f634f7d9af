"""Who pays for what: funding agreements between a funder and a programme, with their period and
budget; and the one validation every cost and result of the registry applies to its funding
source (``registry.funding``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..choices import Currency, OrganizationKind
from ..validators import require_funder
from .bases import VersionedModel
from .organizations import Organization, Program


def funder_reference(
    verbose_name: Any = None, *, db_index: bool = True
) -> models.ForeignKey[Organization, Organization]:
    """An optional funding source: a funder organization (``kind = funder``), protected (pass
    ``db_index=False`` where a composite index leads with it)."""
    return models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        limit_choices_to={"kind": OrganizationKind.FUNDER},
        verbose_name=verbose_name or _("funding source"),
        db_index=db_index,
    )


def agreement_reference() -> models.ForeignKey[FundingAgreement, FundingAgreement]:
    """An optional funding agreement under which a cost was paid, protected."""
    return models.ForeignKey(
        "registry.FundingAgreement",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("funding agreement"),
    )


class FundingAgreement(VersionedModel):
    """A funder's commitment to a programme: its code, period and budget (exact, in its
    currency). Costs paid under it must fall within its period."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    funder = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="funding_agreements",
        limit_choices_to={"kind": OrganizationKind.FUNDER},
        verbose_name=_("funder"),
    )
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        related_name="funding_agreements",
        verbose_name=_("programme"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    budget_amount = models.DecimalField(
        _("budget"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.PEN
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["program__code", "starts_on", "code"]
        verbose_name = _("funding agreement")
        verbose_name_plural = _("funding agreements")
        indexes = [
            models.Index(fields=["funder", "starts_on"], name="fundingagreement_funder_idx"),
            models.Index(fields=["program", "starts_on"], name="fundingagreement_program_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="fundingagreement_dates_order",
                violation_error_message=_("An agreement cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(budget_amount__gte=0),
                name="fundingagreement_budget_not_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.code

    def clean(self) -> None:
        """The funder must be a funder organization."""
        super().clean()
        require_funder(self.funder if self.funder_id is not None else None, "funder")

    def covers(self, day: object) -> bool:
        """Whether ``day`` lies within the agreement's period (both ends included)."""
        return bool(self.starts_on <= day <= self.ends_on)  # type: ignore[operator]
