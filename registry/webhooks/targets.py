"""Which URLs may receive webhooks (server-side request forgery).

In production a target must be ``https://`` and every address its host resolves to must be
public: private (RFC 1918, ULA), loopback, link-local (cloud metadata at 169.254.169.254),
multicast, reserved and unspecified addresses are refused, at subscribe time and again at every
send (DNS may change between the two). With ``WEBHOOK_ALLOW_LOOPBACK_HTTP`` (the embedded
default and tests) a loopback target may also use plain ``http://``; other private addresses
stay refused. Redirects are never followed (``delivery``), so a public target cannot bounce the
request inward.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:  # gaierror, IDNA, NUL in the name
        raise ValidationError(
            _("The host of this URL could not be resolved."), code="unresolvable"
        ) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a global unicast address (not private, loopback, link-local,
    multicast, reserved, unspecified or shared)."""
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_link_local
    )


def check_target(url: str) -> None:
    """Raise ``ValidationError`` (code ``unsafe_target``) unless ``url`` may receive webhooks."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError(_("Enter an https:// URL."), code="unsafe_target")
    if parts.username or parts.password:
        raise ValidationError(_("The URL may not carry a user or password."), code="unsafe_target")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationError(_("Enter a valid port."), code="unsafe_target") from exc
    addresses = _resolve(host, port)
    if not addresses:
        raise ValidationError(_("The host of this URL could not be resolved."), code="unresolvable")
    loopback_ok = bool(settings.WEBHOOK_ALLOW_LOOPBACK_HTTP)
    if loopback_ok and all(a.is_loopback for a in addresses):
        return
    if parts.scheme != "https":
        raise ValidationError(_("Enter an https:// URL."), code="unsafe_target")
    if not all(is_public(a) for a in addresses):
        raise ValidationError(
            _("This URL points at a private, loopback or reserved address."),
            code="unsafe_target",
        )
