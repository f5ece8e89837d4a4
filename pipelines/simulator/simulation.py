"""`simulate`: master data → event tables → placement with dirt → files → manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.simulator.config import SimulationConfig
from pipelines.simulator.dirt import plan_domain
from pipelines.simulator.entities import DOMAINS, build_master_data
from pipelines.simulator.events import generate_events
from pipelines.simulator.extracts import build_snapshot, serialize, snapshot_specs
from pipelines.simulator.manifest import (
    build_manifest,
    count_events_files,
    events_file_entry,
    extract_file_entry,
)
from pipelines.simulator.randomness import random_stream
from pipelines.simulator.rendering import render_events_file
from pipelines.simulator.writer import manifest_bytes, write_immutable, write_replacing

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

GENERATION_STEPS = 6


def simulate(
    landing_dir: Path,
    manifest_path: Path,
    config: SimulationConfig | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the microsites' events and extracts under `landing_dir` and the ground-truth
    manifest to `manifest_path`; returns the manifest.

    Raises FileExistsError if a landed file would change (landing is append-only).
    `progress(step, done, total)` is called after each generation step ("generate") and
    after each file ("write").
    """
    config = config or SimulationConfig()
    landing_dir = Path(landing_dir)
    report = progress or (lambda step, done, total: None)
    step = 0

    def generated(label: str) -> None:
        nonlocal step
        step += 1
        logger.debug("generated %s", label)
        report("generate", step, GENERATION_STEPS)

    master = build_master_data(config)
    generated("master data")
    tables = generate_events(config, master, on_step=generated)
    plans = [plan_domain(config, domain, [t for t in tables if t.event_type.domain == domain]) for domain in DOMAINS]
    generated("file plan")

    specs = snapshot_specs(config)
    total = sum(len(plan.files) for plan in plans) + len(specs)
    done = 0
    files: dict[str, dict[str, Any]] = {}
    for plan in plans:
        rng = random_stream(config.seed, f"malform.{plan.domain}")
        for planned, counts in zip(plan.files, count_events_files(plan), strict=True):
            data, quarantine = render_events_file(plan, planned, rng)
            write_immutable(landing_dir / planned.relative_path, data)
            files[planned.relative_path] = events_file_entry(plan.domain, planned, counts, quarantine)
            done += 1
            report("write", done, total)
    del plans, tables
    for spec in specs:
        frame = build_snapshot(spec, config, master)
        write_immutable(landing_dir / spec.relative_path, serialize(frame, spec.format))
        files[spec.relative_path] = extract_file_entry(spec, frame.height)
        done += 1
        report("write", done, total)

    manifest = build_manifest(config, files, DOMAINS)
    write_replacing(Path(manifest_path), manifest_bytes(manifest))
    logger.info("simulated %d files, %d events", len(files), manifest["totals"]["events"])
    return manifest
