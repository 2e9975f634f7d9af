"""Webhooks: organizations subscribe HTTPS endpoints to the registry's events.

- ``events``: every change writes one :class:`~registry.models.WebhookEvent` in its own
  transaction (``record`` / ``record_many``, called by the workflow kernel's ``transition()``
  for flows that name an event, and by the services that record deliveries, raise alerts and
  move stages); the same transaction fans it out to the matching subscriptions (one
  :class:`~registry.models.WebhookDelivery` each, set-based) and writes one outbox message
  (topic ``webhook.deliver``) that sends them after the commit.
- ``delivery``: the send itself (the envelope built at send time for what the subscriber's keys
  may see, signed, POSTed), the attempt log, backoff with jitter, the dead letter, redelivery.
- ``targets``: which URLs may receive (HTTPS and public addresses in production: SSRF).
- ``signing``: ``X-Registry-Signature: t=<unix>,v1=<hex>``.
- ``services``: subscriptions (create, update, delete, rotate the secret), policy-checked.

Each app registers the builder of its event types' ``data`` from ``AppConfig.ready`` with
:func:`events.register_event` (the kernel knows no model of the apps above it).
"""

from .events import WEBHOOK_TOPIC, event, record, record_many, register_event

__all__ = ["WEBHOOK_TOPIC", "event", "record", "record_many", "register_event"]
