"""Documents of a title file: PDF, JPEG or PNG (recognised by their first bytes, not by their
name), at most 10 MB, stored under the file with their SHA-256."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction
from registry.cleaning import choice_message
from registry.exceptions import Conflict, PayloadTooLarge, UnsupportedMediaType
from registry.history import change_record
from registry.services import field_error

from .. import policies
from ..choices import TitleDocumentType
from ..models import TitleDocument
from .transitions import CLOSED_STATUSES, locked_application

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
DOCUMENT_CONTENT_TYPES = sorted(set(DOCUMENT_SIGNATURES.values()))


@transaction.atomic
def document_upload(
    *, actor: Actor, application: Any, type: str, file: Any, channel: str = "api"
) -> TitleDocument:
    """Attach a document (PDF, JPEG or PNG, at most 10 MB) to a file; its SHA-256 is stored."""
    locked = locked_application(actor, application)
    policies.require_title_application(actor, locked, "upload")
    if type not in TitleDocumentType.values:
        raise field_error(
            "type",
            choice_message(TitleDocumentType),
            "invalid_choice",
        )
    if locked.status in CLOSED_STATUSES:
        raise Conflict(_("The file is closed: no more documents."), code="file_closed")
    if file.size > DOCUMENT_MAX_BYTES:
        raise PayloadTooLarge(
            _("The file is larger than %(max)s MB.") % {"max": DOCUMENT_MAX_BYTES // 2**20},
            attr="file",
            extra={"max_bytes": DOCUMENT_MAX_BYTES},
        )
    head = file.read(8)
    file.seek(0)
    content_type = next(
        (kind for signature, kind in DOCUMENT_SIGNATURES.items() if head.startswith(signature)),
        None,
    )
    if content_type is None:
        raise UnsupportedMediaType(
            _("Send the document as PDF, JPEG or PNG."),
            attr="file",
            extra={"allowed": DOCUMENT_CONTENT_TYPES},
        )
    sha = hashlib.sha256()
    for chunk in file.chunks():
        sha.update(chunk)
    file.seek(0)
    document = TitleDocument(
        application=locked,
        type=type,
        filename=str(getattr(file, "name", "") or "")[:200],
        size=file.size,
        content_type=content_type,
        sha256=sha.hexdigest(),
        **actor.stamp(),
    )
    document.file.save(document.sha256[:16], file, save=False)
    document.save(force_insert=True)
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"document": [type, document.sha256]},
        channel=channel,
    )
    return document
