"""Cancellation (erasure) of a person's data under Law 29733, as far as the law allows: the
programme keeps what it must account for (stage, district, programme, hectares, dates, the
audit trail) and drops who the person is.

For each person cancelled (the member named by the request, or every member of the household):
names become "Anonimizado", the document and the phone are cleared, the birth date keeps only
its year (1 January: age bands still work), and the household's deduplication keys of that
person are removed. When the whole household (or its head) is cancelled, the household's head
name too, and what locates the family exactly: each plot's boundary becomes its district's
centroid (a point; area, tenure and crops stay), plot names are cleared, visit photos are
deleted (after the commit) and visit GPS fixes cleared. The history stays (who did what, when)
with the person's name, document and phone replaced in it. One change record on the household
names the request.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from registry.actors import Actor
from registry.boundaries import outline
from registry.choices import ChangeAction
from registry.history import change_record
from registry.models import ChangeRecord

from ..identity import normalize_name, search_words
from ..models import (
    DataSubjectRequest,
    DedupKey,
    Household,
    Member,
    Plot,
    PossibleDuplicate,
    Verification,
)
from .dedup import _member_keys
from .head import refresh_head_profile

ANONYMISED = "Anonimizado"


def _centroid(district_id: str) -> dict[str, Any]:
    """The district's centroid as a GeoJSON point (an empty geometry when no outline is
    known)."""
    shape = outline(district_id)
    if shape is None:
        return {}
    point = shape.centroid
    return {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]}


def _delete_photos(names: list[str]) -> None:
    """Delete visit photo files (after the commit: a rollback keeps them)."""
    storage = Verification._meta.get_field("photo").storage
    for name in names:
        storage.delete(name)


def _scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` (JSON) with every secret string replaced by "Anonimizado"."""
    text = json.dumps(value, ensure_ascii=False)
    for secret in secrets:
        text = text.replace(json.dumps(secret, ensure_ascii=False)[1:-1], ANONYMISED)
    return json.loads(text)


def _secrets(members: list[Member], household: Household, whole: bool) -> list[str]:
    found: set[str] = set()
    for member in members:
        found |= {
            member.given_names,
            member.surnames,
            f"{member.given_names} {member.surnames}",
            f"{member.surnames} {member.given_names}",
            member.document_number,
            member.phone,
        }
    if whole:
        found |= {household.head_name, household.head_name_search}
    # Longest first, so a full name goes before its parts; nothing too short to be a name.
    return sorted(
        (s for s in found if s and len(s) >= 3 and s != ANONYMISED), key=len, reverse=True
    )


@transaction.atomic
def household_anonymise(
    *,
    actor: Actor,
    household: Household,
    member: Member | None = None,
    request: DataSubjectRequest | None = None,
    channel: str = "admin",
) -> dict[str, Any]:
    """Anonymise ``member`` (or every member of ``household``); see the module docstring.
    Called by ``request_transition`` when a cancellation is answered (the caller has checked
    the actor). Returns counts for the request's change record."""
    locked = Household.objects.select_for_update().get(pk=household.pk)
    targets = list(locked.members.all()) if member is None else [member]
    whole = member is None or member.is_head
    secrets = _secrets(targets, locked, whole)
    target_ids = [m.pk for m in targets]

    for person in targets:
        Member.objects.filter(pk=person.pk).update(
            given_names=ANONYMISED,
            surnames=ANONYMISED,
            document_type="",
            document_number="",
            document_index="",
            phone="",
            phone_index="",
            birth_date=date(person.birth_date.year, 1, 1),
        )
    refresh_head_profile([locked.pk])  # the head's birth date is now 1 January of its year
    # Blocking keys: only the people who stay named keep theirs.
    keep: set[str] = set()
    for other in locked.members.filter(is_active=True).exclude(pk__in=target_ids):
        keep |= _member_keys(other, locked.district_id)
    removed_keys, _by_model = (
        DedupKey.objects.filter(household=locked).exclude(key__in=keep).delete()
    )

    counts: dict[str, Any] = {"members": len(targets), "dedup_keys": removed_keys}
    # The search words: the anonymised people's names leave them (a derived column, so a
    # member's anonymisation alone writes it without a new version).
    locked.names_search = search_words(
        f"{given} {surnames}"
        for given, surnames in locked.members.filter(is_active=True).values_list(
            "given_names", "surnames"
        )
    )
    if whole:
        locked.head_name = ANONYMISED
        locked.head_name_search = normalize_name(ANONYMISED)
        locked.touch("head_name", "head_name_search", "names_search")
        centroid = _centroid(locked.district_id)
        coords = centroid.get("coordinates") or [0.0, 0.0]
        plot_ids = list(Plot.objects.filter(household=locked).values_list("pk", flat=True))
        if plot_ids:
            Plot.objects.filter(pk__in=plot_ids).touch(
                geometry=centroid,
                name=ANONYMISED,
                min_lon=coords[0],
                max_lon=coords[0],
                min_lat=coords[1],
                max_lat=coords[1],
            )
        visits = list(Verification.objects.filter(household=locked))
        photos = [v.photo.name for v in visits if v.photo]
        Verification.objects.filter(household=locked).update(
            photo="", photo_sha256="", latitude=None, longitude=None
        )
        if photos:
            transaction.on_commit(lambda: _delete_photos(photos))
        counts.update(plots=len(plot_ids), photos=len(photos))
        scrub_ids = [str(locked.pk), *map(str, plot_ids), *(str(v.pk) for v in visits)]
    else:
        Household.objects.filter(pk=locked.pk).update(names_search=locked.names_search)
        scrub_ids = [str(locked.pk)]
        plot_ids = []

    # The audit trail stays; the person's identifiers in it go.
    request_ids = list(
        DataSubjectRequest.objects.filter(household=locked).values_list("pk", flat=True)
    )
    scrub_ids += [str(pk) for pk in request_ids] + [str(pk) for pk in target_ids]
    plot_type = ContentType.objects.get_for_model(Plot)
    scrubbed = 0
    for record in ChangeRecord.objects.filter(object_id__in=scrub_ids).iterator():
        changes = _scrub(record.changes, secrets)
        if whole and record.content_type_id == plot_type.pk and "geometry" in changes:
            changes["geometry"] = None
        repr_ = _scrub(record.object_repr, secrets)
        if changes != record.changes or repr_ != record.object_repr:
            ChangeRecord.objects.filter(pk=record.pk).update(changes=changes, object_repr=repr_)
            scrubbed += 1
    for text_request in DataSubjectRequest.objects.filter(pk__in=request_ids):
        fields = {
            name: _scrub(getattr(text_request, name), secrets)
            for name in ("identity_check", "details", "decision_note", "extension_reason")
        }
        DataSubjectRequest.objects.filter(pk=text_request.pk).update(**fields)
    for pair in PossibleDuplicate.objects.filter(
        household=locked
    ) | PossibleDuplicate.objects.filter(candidate=locked):
        PossibleDuplicate.objects.filter(pk=pair.pk).update(reasons=_scrub(pair.reasons, secrets))
    counts["history_entries"] = scrubbed

    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={
            "anonymised": counts,
            "anonymised_on": timezone.localdate().isoformat(),
            **({"data_subject_request": str(request.pk)} if request is not None else {}),
        },
        channel=channel,
    )
    return counts
