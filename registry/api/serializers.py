"""Serializers of reference data (explicit fields, read-only)."""

from __future__ import annotations

from rest_framework import serializers

from registry.models import (
    Department,
    District,
    FundingAgreement,
    Organization,
    Program,
    Province,
)


class DepartmentRefSerializer(serializers.ModelSerializer):
    """A department as ``{code, name}``."""

    class Meta:
        model = Department
        fields = ["code", "name"]


class ProvinceRefSerializer(serializers.ModelSerializer):
    """A province as ``{code, name}``."""

    class Meta:
        model = Province
        fields = ["code", "name"]


class DistrictSerializer(serializers.ModelSerializer):
    """An INEI district with its province and department."""

    province = ProvinceRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)

    class Meta:
        model = District
        fields = ["ubigeo", "name", "province", "department", "is_vraem", "valid_from", "valid_to"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization taking part in the programmes (reference data)."""

    district: serializers.SlugRelatedField[District] = serializers.SlugRelatedField(
        slug_field="ubigeo", read_only=True, allow_null=True
    )

    class Meta:
        model = Organization
        fields = ["code", "name", "kind", "ruc", "district", "is_active"]
        read_only_fields = fields


class ProgramSerializer(serializers.ModelSerializer):
    """A programme with its agency, funder, budget and transition thresholds."""

    agency: serializers.SlugRelatedField[Organization] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    funder: serializers.SlugRelatedField[Organization] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Program
        fields = [
            "code",
            "name",
            "agency",
            "funder",
            "budget_pen",
            "starts_on",
            "ends_on",
            "coca_free_max_age_months",
            "licit_min_ha",
            "market_window_months",
            "graduation_coca_free_months",
            "graduation_income_pen",
            "relapses_before_exclusion",
            "visit_due_months",
            "graduation_requires_tenure",
            "visit_photo_required",
            "is_active",
        ]
        read_only_fields = fields


class FundingAgreementSerializer(serializers.ModelSerializer):
    """A funder's agreement with a programme: code, period, budget and currency (reference
    data: no personal data)."""

    funder: serializers.SlugRelatedField[Organization] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    program: serializers.SlugRelatedField[Program] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = FundingAgreement
        fields = [
            "code",
            "name",
            "funder",
            "program",
            "starts_on",
            "ends_on",
            "budget_amount",
            "currency",
            "is_active",
        ]
        read_only_fields = fields
