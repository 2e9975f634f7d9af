"""factory_boy factories that build valid kernel objects through the services' rules."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from stdnum.pe import ruc as stdnum_ruc

from registry.choices import OrganizationKind
from registry.models import Organization, Program


def valid_ruc(n: int) -> str:
    """A RUC with a correct check digit, for legal entities (prefix 20)."""
    base = f"20{n:08d}"
    return base + stdnum_ruc.calc_check_digit(base)


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Rosa"
    last_name = "Quispe Huamán"
    password = factory.django.Password("clave-segura-123")


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organización {n}")
    kind = OrganizationKind.IMPLEMENTER
    ruc = factory.Sequence(valid_ruc)

    @factory.post_generation
    def districts(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.districts.set(extracted)


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"prog-{n}")
    name = factory.Sequence(lambda n: f"Programa {n}")
    agency = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.PROGRAM_AGENCY)
