"""INEI geography: departments, provinces and districts (with their ubigeo and VRAEM flag)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..validators import validate_ubigeo


class Department(models.Model):
    """An INEI department (región), e.g. 05 Ayacucho."""

    code = models.CharField(
        _("code"), max_length=2, primary_key=True, validators=[RegexValidator(r"^\d{2}$")]
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Province(models.Model):
    """An INEI province, e.g. 0502 Huanta."""

    code = models.CharField(
        _("code"), max_length=4, primary_key=True, validators=[RegexValidator(r"^\d{4}$")]
    )
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="provinces",
        verbose_name=_("department"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return f"{self.name} ({self.department.name})"


class District(models.Model):
    """An INEI district with its 6-digit ubigeo; flagged when it is in the VRAEM."""

    ubigeo = models.CharField(
        _("ubigeo"), max_length=6, primary_key=True, validators=[validate_ubigeo]
    )
    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="districts", verbose_name=_("province")
    )
    # Denormalised from the province so the department filter needs no join.
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="districts",
        verbose_name=_("department"),
    )
    is_vraem = models.BooleanField(_("in the VRAEM"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["ubigeo"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        indexes = [
            models.Index(fields=["department", "ubigeo"], name="district_department_idx"),
            models.Index(fields=["province", "ubigeo"], name="district_province_idx"),
            models.Index(fields=["is_vraem", "ubigeo"], name="district_vraem_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="district_validity_order",
                violation_error_message=_("A district cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ubigeo})"
