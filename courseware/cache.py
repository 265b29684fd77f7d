"""Figures that may be a little old: computed once, kept for a short time in this worker.

For reports that aggregate many records (the trainer's analytics), where a minute's delay is
harmless and recomputing on every view is not. Every worker computes its own copy; nothing here
has to agree between workers, because each copy expires on its own.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime, timezone
from threading import Lock
from typing import Any, Callable, Hashable

from flask import current_app

MAX_ENTRIES = 256
_lock = Lock()


def remember(key: Hashable, compute: Callable[[], Any], fresh: bool = False) -> tuple[Any, datetime]:
    """Return `compute()`'s value and when it was computed, reusing it for REPORT_CACHE_SECONDS."""
    seconds = current_app.config.get("REPORT_CACHE_SECONDS", 0)
    store: OrderedDict = current_app.extensions.setdefault("courseware.reports_cache", OrderedDict())
    now = time.monotonic()
    with _lock:
        hit = store.get(key)
    if hit is not None and not fresh and now < hit[0]:
        return hit[1], hit[2]
    value, computed_at = compute(), datetime.now(timezone.utc)
    if seconds > 0:
        with _lock:
            store[key] = (now + seconds, value, computed_at)
            store.move_to_end(key)
            while len(store) > MAX_ENTRIES:
                store.popitem(last=False)
    return value, computed_at
