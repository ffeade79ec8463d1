"""The one timing rule of the benchmarks: the median wall time of a few whole runs.

Imported as ``benchmarks.timing`` by the scripts, and as ``timing`` by
``measure_cost.py``, which runs as a file against other revisions' code.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Run ``fn`` ``repeat`` times (at least once), one after another; the median wall time, seconds."""
    runs = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)
