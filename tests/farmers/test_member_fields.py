"""One list of a member's own fields (``farmers.models.MEMBER_FIELDS``): the API's member
serializer, the admin's member inline, the seeder's COPY columns, the list-path benchmark's
bare view and the registration and rectification services all take it, and no module spells
the list out again."""

from __future__ import annotations

import re

from farmers.admin.inlines import MemberInline
from farmers.api.serializers.households import MemberSerializer
from farmers.devtools import list_path
from farmers.models import MEMBER_FIELDS, Member
from tests.test_architecture import APPS, ROOT, app_modules

# Three of the member's fields in a row, as a spelled-out list has them.
SPELLED_OUT = re.compile(r'"given_names",\s*"surnames",\s*"document_type",')


def test_the_member_fields_are_the_models_own_fields() -> None:
    names = {field.name for field in Member._meta.concrete_fields}
    assert set(MEMBER_FIELDS) <= names
    assert len(set(MEMBER_FIELDS)) == len(MEMBER_FIELDS)


def test_every_member_list_is_built_from_the_one_constant() -> None:
    assert MemberSerializer.Meta.fields == ["id", *MEMBER_FIELDS, "is_head"]
    assert MemberInline.fields == [*MEMBER_FIELDS, "is_head", "is_active"]
    assert ("id", "household_id", *MEMBER_FIELDS, "is_head") == list_path.MEMBER_COLUMNS


def test_no_module_spells_the_member_fields_out_again() -> None:
    spelled = []
    for app in APPS:
        for path in app_modules(app):
            name = path.relative_to(ROOT).as_posix()
            if name == "farmers/models/households.py":
                continue
            if SPELLED_OUT.search(path.read_text(encoding="utf-8")):
                spelled.append(name)
    assert spelled == []
