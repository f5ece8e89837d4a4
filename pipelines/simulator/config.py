"""Simulation settings: what to generate, how much, and how dirty.

Kept as frozen dataclasses so a config is hashable, comparable and can be written
verbatim into the ground-truth manifest (the manifest must say how it was made).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

MALFORMATION_REASONS: tuple[str, ...] = (
    "invalid_json",
    "invalid_utf8",
    "missing_required",
    "wrong_type",
    "unknown_type",
)
"""Quarantine reason codes the simulator produces, in the order their rates are drawn."""


@dataclass(frozen=True)
class DirtRates:
    """Probability per event of each kind of dirt (before the config's `dirt` multiplier).

    A line gets at most one problem, so the multiplied rates must sum to at most 1.
    """

    duplicate_within_file: float = 0.01
    duplicate_across_files: float = 0.005
    late: float = 0.02
    out_of_order: float = 0.05
    invalid_json: float = 0.001
    invalid_utf8: float = 0.0005
    missing_required: float = 0.001
    wrong_type: float = 0.001
    unknown_type: float = 0.0005


@dataclass(frozen=True)
class SimulationConfig:
    """What `simulate` generates.

    `scale` multiplies every volume (events and growing entities such as customers);
    `dirt` multiplies every rate in `rates` (0 gives perfectly clean data).
    """

    days: int = 14
    scale: float = 1.0
    seed: int = 7
    start: date = date(2026, 10, 1)
    dirt: float = 1.0
    rates: DirtRates = field(default_factory=DirtRates)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"days must be at least 1, got {self.days}")
        if self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.dirt < 0:
            raise ValueError(f"dirt must not be negative, got {self.dirt}")
        if self.seed < 0:
            raise ValueError(f"seed must not be negative, got {self.seed}")
        rates = self.effective_rates()
        if any(not 0.0 <= rate <= 1.0 for rate in rates.values()) or sum(rates.values()) > 1.0:
            raise ValueError(f"dirt={self.dirt} makes the dirt rates exceed 1 in total: {rates}")

    def effective_rates(self) -> dict[str, float]:
        """Each dirt rate multiplied by `dirt`, in declaration order."""
        return {f.name: getattr(self.rates, f.name) * self.dirt for f in dataclasses.fields(self.rates)}

    @property
    def start_ms(self) -> int:
        """Start of the simulated window (00:00:00Z of `start`) in epoch milliseconds."""
        start = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        return int(start.timestamp()) * 1000

    @property
    def end_ms(self) -> int:
        """End of the window (exclusive); nothing at or after it is emitted."""
        return self.start_ms + self.days * DAY_MS

    @property
    def drift_day(self) -> int:
        """The day on which the extracts change schema (breaking and additive drift)."""
        return self.days // 2

    @property
    def snapshot_days(self) -> tuple[int, ...]:
        """Days (offsets from start) with a regular extract snapshot at 00:00:00Z."""
        return tuple(sorted({0, self.days - 1, *range(0, self.days, 7)}))

    def day_ms(self, day: int) -> int:
        """00:00:00Z of simulated day `day` in epoch milliseconds."""
        return self.start_ms + day * DAY_MS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, written into the manifest."""
        return {
            "days": self.days,
            "scale": self.scale,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "dirt": self.dirt,
            "rates": dataclasses.asdict(self.rates),
        }
