"""Independent, named random streams.

Every part of the simulation draws from its own stream derived from (seed, name), so
the output does not depend on the order in which parts run, and adding draws in one
part does not shift the numbers of another.
"""

from __future__ import annotations

import zlib

import numpy as np

from pipelines.simulator.config import DAY_MS, HOUR_MS


def random_stream(seed: int, name: str) -> np.random.Generator:
    """A PCG64 generator for `name`, reproducible from `seed` alone."""
    return np.random.Generator(np.random.PCG64([seed, zlib.crc32(name.encode("utf-8"))]))


def times_in_days(rng: np.random.Generator, start_ms: int, per_day_mean: float, days: int) -> np.ndarray:
    """Sorted event times: a Poisson count per day, busier during office hours (UTC)."""
    counts = rng.poisson(per_day_mean, size=days)
    day = np.repeat(np.arange(days, dtype=np.int64), counts)
    hour_weights = np.array(
        [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 8, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1],
        dtype=float,
    )
    hour = rng.choice(24, size=day.size, p=hour_weights / hour_weights.sum())
    offset = hour * HOUR_MS + rng.integers(0, HOUR_MS, size=day.size)
    return np.sort(start_ms + day * DAY_MS + offset)
