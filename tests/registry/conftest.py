"""Fixtures of the kernel's tests: a real webhook receiver on loopback (``receiver``)."""

from tests.registry.webhook_receiver import receiver

__all__ = ["receiver"]
