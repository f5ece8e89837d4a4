"""Microsite simulator: realistic, deliberately dirty landing data plus its ground truth.

    from pipelines.simulator import SimulationConfig, simulate
    manifest = simulate(landing_dir, manifest_path, SimulationConfig(days=14, scale=1.0))

Six domains publish CloudEvents JSON lines and extract snapshots whose ids reference
each other (orders → customers and products, invoices → orders, leads → campaigns, …),
with duplicates, late and out-of-order lines, malformed lines and schema drift at
configurable rates. The returned (and written) manifest says, per file, what a correct
loader must load, deduplicate and quarantine.

Volume: at scale 1 a 30-day window holds about 1,240 unique events per day (derived
events included; short windows hold fewer, since payments trail invoices by up to 20
days). `SimulationConfig(days=30, scale=270)` gives ~10.0M events (10.2M lines, 3.1 GB):
measured 37 s wall time and 1.7 GB peak RSS on 2 cores.
"""

from pipelines.simulator.config import DirtRates, SimulationConfig
from pipelines.simulator.simulation import simulate

__all__ = ["DirtRates", "SimulationConfig", "simulate"]
