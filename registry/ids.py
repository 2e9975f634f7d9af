"""Time-ordered record ids (UUID version 7, RFC 9562) for the large tables.

A random id (version 4) lands anywhere in its primary-key index and in every index of a foreign
key to it: on a table of a million households, each new household, member and blocking key then
touches a different page of each index. A version 7 id starts with the time in milliseconds, so
the rows written together (an import's chunk, a registration) go to the end of those indexes,
pages that are already in memory. The id still carries 62 random bits from the operating
system's generator, so it cannot be guessed, and ids made on a phone offline (version 4) sit
beside them without conflict.

Made here rather than by a library because an import makes a quarter of a million at once:
``new_ids`` reads the randomness for all of them in one system call (Python 3.14's
``uuid.uuid7`` makes one at a time). Layout: 48 bits of Unix time in milliseconds, the version
(7), a 12-bit sequence (``rand_a``) that keeps the ids of one batch in order, the variant (0b10)
and 62 random bits (``rand_b``).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_SEQUENCE = 1 << 12  # ids per millisecond in ``rand_a``
_lock = threading.Lock()
_last_ms = 0


def _start(count: int) -> int:
    """The millisecond a batch of ``count`` ids starts at: now, or just after the last batch
    (never before it, so the ids of one process keep their order)."""
    global _last_ms
    with _lock:
        start = max(time.time_ns() // 1_000_000, _last_ms + 1)
        _last_ms = start + (count - 1) // _SEQUENCE
        return start


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` new time-ordered ids, ascending."""
    if count <= 0:
        return []
    start = _start(count)
    randomness = os.urandom(8 * count)
    ids = []
    for index in range(count):
        millisecond, sequence = divmod(index, _SEQUENCE)
        random_bits = int.from_bytes(randomness[8 * index : 8 * index + 8]) >> 2
        ids.append(
            uuid.UUID(
                int=((start + millisecond) << 80)
                | (0x7000 | sequence) << 64
                | (0b10 << 62)
                | random_bits
            )
        )
    return ids


def new_id() -> uuid.UUID:
    """A new time-ordered id (a model field's default)."""
    return new_ids(1)[0]
