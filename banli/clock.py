"""The system clock: what every process reads for `recorded_at` (and "now"). Injected, never
read by the kernel itself; tests give a fixed one."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)
