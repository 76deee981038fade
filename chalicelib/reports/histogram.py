"""A mergeable, bounded histogram of durations in seconds, for report percentiles.

Bucket 0 holds [0, 1) s; bucket i >= 1 holds [R^(i-1), R^i) s with R = 1.2; the last bucket also
takes everything longer (R^79 is about 21 days). Counts of equal buckets simply add, so hours and
agents merge by addition, and a report stores at most BUCKETS small numbers per metric and hour.

A percentile is found by nearest rank over the counts and reported as the bucket's geometric
middle, sqrt(lo * hi): for any true value in the bucket the estimate is off by at most
sqrt(R) - 1 = 9.5% (relative), and values under 1 s are reported as 0.5 s.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

RATIO = 1.2
BUCKETS = 80


def bucket(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(BUCKETS - 1, 1 + int(math.floor(math.log(seconds, RATIO) + 1e-9)))


def estimate(index: int) -> float:
    if index == 0:
        return 0.5
    return round(math.sqrt(RATIO ** (index - 1) * RATIO ** index), 3)


def percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """Nearest-rank percentile (fraction in (0, 1]) of the counted durations; None if none."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return estimate(index)
    return estimate(max(counts))
