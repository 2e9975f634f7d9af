"""Nothing personal in logs or error reports: national ID numbers and phones are redacted.

Three gates, all configured in ``config/settings/base.py``:

* ``PersonalDataFilter`` on the log handler: the formatted message, the exception text and the
  stack are redacted, and the exception object is dropped from the record once its text is
  redacted, so no handler further down (a file, a log shipper, an error tracker reading
  ``exc_info``) sees the raw exception.
* ``PersonalDataReporterFilter`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``): form fields named like
  an identifier are masked in Django's error reports, whatever their value.
* ``PersonalDataExceptionReporter`` (``DEFAULT_EXCEPTION_REPORTER``): the whole rendered report
  (text and HTML: exception message, frame variables, request data) goes through ``redact``.

``redact`` replaces runs of 8 to 12 digits (a DNI with or without its check character, a
numeric carné de extranjería, a national phone) and ``+``-prefixed international numbers by
``[redacted]``. Alphanumeric CEs cannot be told from words by their shape: they are caught by
field name in request data, and never logged by the registry's own code.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"

_IDENTIFIER_RE = re.compile(
    r"\+\d[\d ]{7,17}\d"  # +51 987654321, +51987654321
    r"|(?<![0-9A-Za-z])\d{8}(?:-?[0-9A-K])?(?![0-9A-Za-z-])"  # DNI, with its check character
    r"|(?<![0-9A-Za-z-])\d{9,12}(?![0-9A-Za-z-])"  # numeric CE, national phone
    r"|(?<![0-9])9\d{2}[ -]\d{3}[ -]\d{3}(?![0-9])"  # 987 654 321
)
PERSONAL_FIELD_RE = re.compile(r"document_number|phone|dni", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every ID-like or phone-like number replaced by ``[redacted]``."""
    return _IDENTIFIER_RE.sub(REDACTED, text)


class PersonalDataFilter(logging.Filter):
    """A log filter that redacts identifiers in the message, the exception and the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Django's safe reporter filter, with identifier fields masked in request data and
    identifier-like values masked in frame variables."""

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for key in list(cleansed):
            if PERSONAL_FIELD_RE.search(str(key)):
                cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        cleaned = []
        for name, value in variables:
            text = repr(value)
            if redact(text) != text:
                value = redact(text)
            cleaned.append((name, value))
        return cleaned


class PersonalDataExceptionReporter(ExceptionReporter):
    """Django's error report with every identifier-like number redacted from its text."""

    def get_traceback_html(self) -> SafeString:
        # The report is already escaped: replacing digits keeps it safe.
        return mark_safe(redact(str(super().get_traceback_html())))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(str(super().get_traceback_text())))  # noqa: S308


__all__ = [
    "PersonalDataExceptionReporter",
    "PersonalDataFilter",
    "PersonalDataReporterFilter",
    "redact",
]
