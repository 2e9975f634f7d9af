"""Exceptions the apps raise; the API exception handler renders them in the one error shape."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _


class RegistryError(Exception):
    """Base class: an HTTP status, a machine code, a human message and an optional field path."""

    status_code = 400
    default_code = "error"
    default_detail = _("The request could not be processed.")

    def __init__(
        self,
        detail: object = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.detail = str(detail if detail is not None else self.default_detail)
        self.code = code or self.default_code
        self.attr = attr
        self.extra = extra or {}
        super().__init__(self.detail)


class NotFound(RegistryError):
    """The object does not exist or is outside the caller's scope (never revealed)."""

    status_code = 404
    default_code = "not_found"
    default_detail = _("Not found.")


class PermissionDenied(RegistryError):
    """The caller's role or key may not do this."""

    status_code = 403
    default_code = "permission_denied"
    default_detail = _("You do not have permission to perform this action.")


class Conflict(RegistryError):
    """The request conflicts with the current state (duplicates, overlaps, idempotency)."""

    status_code = 409
    default_code = "conflict"
    default_detail = _("The request conflicts with the current state of the record.")


class InvalidTransition(Conflict):
    """A workflow move that the state machine does not allow; lists the allowed next states."""

    default_code = "invalid_transition"
    default_detail = _("This change of status is not allowed.")

    def __init__(self, current: str, target: str, allowed: Iterable[str]) -> None:
        allowed_list = sorted(allowed)
        super().__init__(
            _("Cannot go from “%(current)s” to “%(target)s”. Allowed: %(allowed)s.")
            % {
                "current": current,
                "target": target,
                "allowed": ", ".join(allowed_list) or "—",
            },
            attr="to",
            extra={"allowed": allowed_list},
        )


class PayloadTooLarge(RegistryError):
    """An upload above the size limit."""

    status_code = 413
    default_code = "file_too_large"
    default_detail = _("The file is too large.")


class UnsupportedMediaType(RegistryError):
    """An upload of a type the registry does not accept."""

    status_code = 415
    default_code = "unsupported_media_type"
    default_detail = _("This type of file is not accepted.")


class PreconditionFailed(RegistryError):
    """The client's If-Match does not match the current version: someone changed it first."""

    status_code = 412
    default_code = "precondition_failed"
    default_detail = _(
        "The record was changed by someone else since you read it. Reload it and try again."
    )
