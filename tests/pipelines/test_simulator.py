"""Tests of the microsite simulator: determinism, ground truth, contracts, integrity, dirt."""

from __future__ import annotations

import bisect
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from pipelines.simulator import DirtRates, SimulationConfig, simulate
from pipelines.simulator import dirt as dirt_module

CONTRACTS = Path(__file__).resolve().parents[2] / "catalog" / "contracts"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ENVELOPE = ("specversion", "id", "source", "type", "time")
SMALL = SimulationConfig(days=10, scale=1.0, seed=3, dirt=4.0)


def _load_contracts(kind: str) -> dict[str, dict[str, Any]]:
    contracts = {}
    for path in sorted((CONTRACTS / kind).glob("*.yml")):
        contract = yaml.safe_load(path.read_text())
        key = contract["type"] if kind == "events" else f"{contract['domain']}.{contract['table']}"
        contracts[key] = contract
    return contracts


EVENT_CONTRACTS = _load_contracts("events")
EXTRACT_CONTRACTS = _load_contracts("extracts")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _has_type(value: object, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "timestamp":
        return _is_datetime(value)
    if kind == "date":
        return _is_date(value)
    return isinstance(value, str)


def _classify(raw: bytes) -> tuple[str, str | None] | dict[str, Any]:
    """An independent reading of one line: the event, or (reason, detail)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ("invalid_utf8", None)
    try:
        event = json.loads(text)
    except json.JSONDecodeError:
        return ("invalid_json", None)
    for attribute in ENVELOPE:
        if attribute not in event:
            return ("missing_required", attribute)
    if not isinstance(event["id"], str):
        return ("wrong_type", "id")
    if not _is_datetime(event["time"]):
        return ("wrong_type", "time")
    contract = EVENT_CONTRACTS.get(event["type"])
    if contract is None:
        return ("unknown_type", event["type"])
    for name, spec in contract["fields"].items():
        value = event["data"].get(name)
        if value is not None and not _has_type(value, spec["type"]):
            return ("wrong_type", f"data.{name}")
    return event


@dataclass
class Landing:
    root: Path
    manifest: dict[str, Any]
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quarantine: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raw_lines: dict[str, list[bytes]] = field(default_factory=dict)

    def valid_events(self, event_type: str) -> list[dict[str, Any]]:
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for events in self.events.values():
            for event in events:
                if event["type"] == event_type:
                    seen.setdefault((event["source"], event["id"]), event)
        return list(seen.values())

    def snapshots(self, domain: str, table: str) -> list[tuple[str, pl.DataFrame]]:
        result = []
        for path in sorted((self.root / domain / "extracts" / table).iterdir()):
            frame = pl.read_csv(path, infer_schema=False) if path.suffix == ".csv" else pl.read_parquet(path)
            result.append((path.stem, frame))
        return result


def _read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def _read_landing(root: Path, manifest: dict[str, Any]) -> Landing:
    landing = Landing(root, manifest)
    for relative, entry in manifest["files"].items():
        if entry["kind"] != "events":
            continue
        raw = _read_lines(root / relative)
        landing.raw_lines[relative] = raw
        landing.events[relative] = []
        landing.quarantine[relative] = []
        for number, line in enumerate(raw, start=1):
            result = _classify(line)
            if isinstance(result, dict):
                result["_line"] = number
                landing.events[relative].append(result)
            else:
                reason, detail = result
                landing.quarantine[relative].append({"line": number, "reason": reason, "detail": detail})
    return landing


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("sim")
    manifest = simulate(root / "landing", root / "manifest.json", SMALL)
    return _read_landing(root / "landing", manifest)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_simulate_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    config = SimulationConfig(days=3, scale=0.2, seed=11)
    simulate(tmp_path / "a" / "landing", tmp_path / "a" / "manifest.json", config)
    simulate(tmp_path / "b" / "landing", tmp_path / "b" / "manifest.json", config)
    result, expected = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert result == expected


def test_simulate_different_seed_gives_different_bytes(tmp_path: Path) -> None:
    simulate(tmp_path / "a", tmp_path / "a.json", SimulationConfig(days=3, scale=0.2, seed=1))
    simulate(tmp_path / "b", tmp_path / "b.json", SimulationConfig(days=3, scale=0.2, seed=2))
    result, other = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert result.keys() & other.keys()
    assert any(result[k] != other[k] for k in result.keys() & other.keys() if "/events/" in k)


def test_simulate_returns_the_manifest_it_writes(landing: Landing) -> None:
    written = json.loads((landing.root.parent / "manifest.json").read_text())
    assert written == landing.manifest


def test_manifest_records_equal_loaded_plus_duplicates_plus_quarantined(
    landing: Landing,
) -> None:
    for relative, entry in landing.manifest["files"].items():
        expected = entry["expected"]
        total = expected["loaded"] + expected["duplicates"] + expected["quarantined"]
        assert entry["records"] == total, relative


def test_manifest_lists_every_landed_file(landing: Landing) -> None:
    result = sorted(str(p.relative_to(landing.root)) for p in landing.root.rglob("*") if p.is_file())
    assert result == list(landing.manifest["files"])


def test_manifest_quarantine_matches_an_independent_reading(landing: Landing) -> None:
    for relative, entries in landing.quarantine.items():
        assert landing.manifest["files"][relative]["quarantine"] == entries, relative
    reasons = Counter(e["reason"] for entries in landing.quarantine.values() for e in entries)
    by_reason = landing.manifest["totals"]["quarantined_by_reason"]
    assert {r: n for r, n in by_reason.items() if r != "breaking_change"} == {
        r: reasons.get(r, 0) for r in by_reason if r != "breaking_change"
    }
    assert all(reasons[r] > 0 for r in ("invalid_json", "missing_required", "wrong_type"))


def test_manifest_expected_counts_match_loading_in_path_order(landing: Landing) -> None:
    seen: set[tuple[str, str]] = set()
    for relative in sorted(landing.events):
        first_here: set[tuple[str, str]] = set()
        loaded = duplicates = within = 0
        for event in landing.events[relative]:
            key = (event["source"], event["id"])
            if key in seen:
                duplicates += 1
                within += key in first_here
            else:
                seen.add(key)
                first_here.add(key)
                loaded += 1
        entry = landing.manifest["files"][relative]
        assert entry["expected"]["loaded"] == loaded, relative
        assert entry["expected"]["duplicates"] == duplicates, relative
        assert entry["duplicates_within_file"] == within, relative
        assert entry["expected"]["quarantined"] == len(landing.quarantine[relative]), relative
    assert landing.manifest["totals"]["events"] == len(seen)


def test_manifest_totals_count_duplicates_and_late_events(landing: Landing) -> None:
    totals = landing.manifest["totals"]
    assert totals["duplicates_within_file"] > 0
    assert totals["duplicates_across_files"] > 0
    assert totals["late_events"] > 0
    assert totals["out_of_order"] > 0
    assert totals["lines"] == sum(len(lines) for lines in landing.raw_lines.values())


def test_events_before_file_day_are_late_or_copied_from_earlier_files(
    landing: Landing,
) -> None:
    for relative, events in landing.events.items():
        file_day = Path(relative).name[:10]
        result = sum(event["time"][:10] < file_day for event in events)
        entry = landing.manifest["files"][relative]
        assert result == entry["late_events"] + entry["duplicates_across_files"], relative


def test_events_wellformed_lines_satisfy_their_contract(landing: Landing) -> None:
    checked = Counter()
    for events in landing.events.values():
        for event in events:
            contract = EVENT_CONTRACTS[event["type"]]
            assert event["specversion"] == "1.0"
            assert list(event)[:7] == [
                "specversion",
                "id",
                "source",
                "type",
                "time",
                "datacontenttype",
                "data",
            ]
            assert event["source"].startswith(f"/{contract['domain']}/")
            assert set(event["data"]) == set(contract["fields"])
            for name, spec in contract["fields"].items():
                value = event["data"][name]
                if value is None:
                    assert not spec.get("required", False), (event["type"], name)
                    continue
                assert _has_type(value, spec["type"]), (event["type"], name, value)
                if "enum" in spec:
                    assert value in spec["enum"], (event["type"], name, value)
            checked[event["type"]] += 1
    assert set(checked) == set(EVENT_CONTRACTS)


def test_events_ids_are_unique_per_source(landing: Landing) -> None:
    first_lines: dict[tuple[str, str], str] = {}
    for events in landing.events.values():
        for event in events:
            line = json.dumps(event["data"], sort_keys=True) + event["type"] + event["time"]
            assert first_lines.setdefault((event["source"], event["id"]), line) == line


def _latest_snapshot_ids(landing: Landing, domain: str, table: str, key: str) -> tuple[list[str], list[set[str]]]:
    times, ids = [], []
    for stem, frame in landing.snapshots(domain, table):
        if key in frame.columns and (table != "customers" or "email" in frame.columns):
            times.append(datetime.strptime(stem, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%S.000Z"))
            ids.append(set(frame[key].to_list()))
    return times, ids


def test_integrity_customers_exist_in_a_snapshot_before_the_event(
    landing: Landing,
) -> None:
    times, ids = _latest_snapshot_ids(landing, "sales", "customers", "customer_id")
    for event_type in (
        "sales.order.placed",
        "support.ticket.opened",
        "marketing.lead.captured",
    ):
        events = landing.valid_events(event_type)
        assert events
        for event in events:
            customer = event["data"]["customer_id"]
            if customer is None:
                continue
            latest = bisect.bisect_right(times, event["time"]) - 1
            assert latest >= 0 and customer in ids[latest], (event_type, event["id"])


def test_integrity_orders_reference_existing_products(landing: Landing) -> None:
    products = {pid for _, frame in landing.snapshots("sales", "products") for pid in frame["product_id"]}
    for event in landing.valid_events("sales.order.placed"):
        assert event["data"]["product_id"] in products
        assert event["data"]["amount"] == round(event["data"]["quantity"] * event["data"]["unit_price"], 2)


def _by(landing: Landing, event_type: str, key: str) -> dict[str, dict[str, Any]]:
    return {event["data"][key]: event for event in landing.valid_events(event_type)}


def test_integrity_finance_chain_references_earlier_events(landing: Landing) -> None:
    orders = _by(landing, "sales.order.placed", "order_id")
    cancelled = set(_by(landing, "sales.order.cancelled", "order_id"))
    invoices = _by(landing, "finance.invoice.issued", "invoice_id")
    payments = _by(landing, "finance.payment.received", "payment_id")
    refunds = _by(landing, "finance.refund.issued", "refund_id")
    assert invoices and payments and refunds
    for invoice in invoices.values():
        order = orders.get(invoice["data"]["order_id"])
        if order is None:  # the order's line may be quarantined
            continue
        assert invoice["data"]["order_id"] not in cancelled
        assert (invoice["data"]["amount"], invoice["data"]["currency"]) == (
            order["data"]["amount"],
            order["data"]["currency"],
        )
        assert order["time"] <= invoice["time"]
    paid_per_invoice: Counter[str] = Counter()
    for payment in payments.values():
        invoice_id = payment["data"]["invoice_id"]
        paid_per_invoice[invoice_id] += 1
        if invoice_id in invoices:
            assert invoices[invoice_id]["time"] < payment["time"]
            assert payment["data"]["amount"] <= invoices[invoice_id]["data"]["amount"]
    assert max(paid_per_invoice.values()) == 2
    for refund in refunds.values():
        payment = payments.get(refund["data"]["payment_id"])
        if payment is not None:
            assert payment["time"] < refund["time"]
            assert refund["data"]["amount"] <= payment["data"]["amount"]


def test_integrity_leads_reference_launched_campaigns(landing: Landing) -> None:
    launched = {e["data"]["campaign_id"]: e["time"] for e in landing.valid_events("marketing.campaign.launched")}
    first_snapshot = set(landing.snapshots("marketing", "campaigns")[0][1]["campaign_id"])
    last_snapshot = set(landing.snapshots("marketing", "campaigns")[-1][1]["campaign_id"])
    assert set(launched) <= last_snapshot
    for lead in landing.valid_events("marketing.lead.captured"):
        campaign = lead["data"]["campaign_id"]
        assert campaign in first_snapshot or launched.get(campaign, "9999") < lead["time"]


def test_integrity_tickets_reference_their_customers_orders(landing: Landing) -> None:
    orders = _by(landing, "sales.order.placed", "order_id")
    tickets = landing.valid_events("support.ticket.opened")
    about_orders = [t for t in tickets if t["data"]["order_id"] is not None]
    assert 0.3 < len(about_orders) / len(tickets) < 0.7
    for ticket in about_orders:
        order = orders.get(ticket["data"]["order_id"])
        if order is not None:
            assert order["data"]["customer_id"] == ticket["data"]["customer_id"]
            assert order["time"] < ticket["time"]
    agents = set(landing.snapshots("support", "agents")[0][1]["agent_id"])
    for resolved in landing.valid_events("support.ticket.resolved"):
        assert resolved["data"]["agent_id"] in agents


def test_integrity_incidents_reference_deployments_of_their_service(
    landing: Landing,
) -> None:
    deployments = _by(landing, "devops.deployment.finished", "deployment_id")
    services = set(landing.snapshots("devops", "services")[0][1]["service_id"])
    incidents = landing.valid_events("devops.incident.opened")
    assert incidents
    for incident in incidents:
        deployment = deployments.get(incident["data"]["deployment_id"])
        if deployment is not None:
            assert deployment["data"]["service_id"] == incident["data"]["service_id"]
            assert deployment["time"] <= incident["time"]
    for deployment in deployments.values():
        assert deployment["data"]["service_id"] in services
        assert deployment["data"]["committed_at"] < deployment["time"]


def test_integrity_deployment_versions_increase_per_service(landing: Landing) -> None:
    deployments = sorted(landing.valid_events("devops.deployment.finished"), key=lambda e: e["time"])
    latest: dict[str, tuple[int, ...]] = {}
    for deployment in deployments:
        service = deployment["data"]["service_id"]
        version = tuple(int(part) for part in deployment["data"]["version"].split("."))
        assert version > latest.get(service, ()), deployment["id"]
        latest[service] = version


def test_integrity_testruns_use_suites_and_versions_of_their_service(
    landing: Landing,
) -> None:
    suites = landing.snapshots("qa", "test_suites")[0][1]
    suite_service = dict(zip(suites["suite_id"], suites["service_id"], strict=True))
    versions = {
        (d["data"]["service_id"], d["data"]["version"]) for d in landing.valid_events("devops.deployment.finished")
    }
    runs = landing.valid_events("qa.testrun.completed")
    assert runs
    for run in runs:
        assert suite_service[run["data"]["suite_id"]] == run["data"]["service_id"]
    matched = sum((r["data"]["service_id"], r["data"]["version"]) in versions for r in runs)
    assert matched / len(runs) > 0.9  # the rest belong to quarantined deployment lines


def test_extracts_regular_snapshots_have_the_contract_columns(landing: Landing) -> None:
    for key, contract in EXTRACT_CONTRACTS.items():
        domain, table = key.split(".")
        for stem, frame in landing.snapshots(domain, table):
            entry = landing.manifest["files"][f"{domain}/extracts/{table}/{stem}.{contract['format']}"]
            expected = list(contract["columns"]) + (entry["drift"] or {}).get("added", [])
            if (entry["drift"] or {}).get("kind") == "breaking":
                continue
            assert frame.columns == expected, (key, stem)
            assert frame.height == entry["records"] == entry["expected"]["loaded"]
            assert frame.select(contract["primary_key"]).is_unique().all()


def test_extracts_parquet_uses_natural_types(landing: Landing) -> None:
    frame = landing.snapshots("marketing", "campaigns")[-1][1]
    assert frame.schema["budget"] == pl.Float64
    assert frame.schema["start_date"] == pl.Date
    assert frame.schema["end_date"] == pl.Date
    assert landing.snapshots("sales", "products")[0][1].schema["is_active"] == pl.Boolean


def test_extracts_breaking_snapshot_renames_email(landing: Landing) -> None:
    files = landing.manifest["files"]
    drift_day = SMALL.start.toordinal() + SMALL.days // 2
    stamp = date.fromordinal(drift_day).strftime("%Y%m%d") + "T120000Z"
    entry = files[f"sales/extracts/customers/{stamp}.csv"]
    frame = pl.read_csv(landing.root / f"sales/extracts/customers/{stamp}.csv", infer_schema=False)
    assert entry["drift"] == {"kind": "breaking", "renamed": {"email": "email_address"}}
    assert "email_address" in frame.columns and "email" not in frame.columns
    assert entry["expected"] == {
        "loaded": 0,
        "duplicates": 0,
        "quarantined": frame.height,
    }
    later = [f for p, f in files.items() if "customers" in p and p > f"sales/extracts/customers/{stamp}.csv"]
    assert later and all(f["drift"] is None for f in later)


def test_extracts_campaigns_gain_objective_from_drift_day(landing: Landing) -> None:
    drift_from = date.fromordinal(SMALL.start.toordinal() + SMALL.days // 2).strftime("%Y%m%d")
    snapshots = landing.snapshots("marketing", "campaigns")
    assert f"{drift_from}T120000Z" in [stem for stem, _ in snapshots]
    for stem, frame in snapshots:
        assert ("objective" in frame.columns) == (stem >= drift_from), stem


def test_extracts_fx_rates_have_one_snapshot_per_day_with_eur_at_one(
    landing: Landing,
) -> None:
    snapshots = landing.snapshots("finance", "fx_rates")
    assert len(snapshots) == SMALL.days
    for stem, frame in snapshots:
        rates = dict(zip(frame["currency"], frame["rate_to_eur"], strict=True))
        assert rates["EUR"] == "1.0" and set(rates) == {"EUR", "USD", "GBP"}
        assert frame["rate_date"].unique().to_list() == [f"{stem[:4]}-{stem[4:6]}-{stem[6:8]}"]


def test_events_devops_and_qa_files_are_reproducible_gzip(landing: Landing) -> None:
    gz = [p for p in landing.manifest["files"] if p.startswith(("devops/events", "qa/events"))]
    assert gz and all(p.endswith(".jsonl.gz") for p in gz)
    header = (landing.root / gz[0]).read_bytes()[:10]
    assert header[4:8] == b"\x00\x00\x00\x00"  # mtime 0


def test_simulate_without_dirt_has_no_quarantine_duplicates_or_disorder(
    tmp_path: Path,
) -> None:
    manifest = simulate(
        tmp_path / "landing",
        tmp_path / "m.json",
        SimulationConfig(days=4, scale=0.3, dirt=0),
    )
    totals = manifest["totals"]
    assert sum(n for r, n in totals["quarantined_by_reason"].items() if r != "breaking_change") == 0
    assert totals["duplicates_within_file"] == totals["duplicates_across_files"] == 0
    assert totals["late_events"] == totals["out_of_order"] == 0
    for relative, entry in manifest["files"].items():
        if entry["kind"] == "events":
            assert entry["quarantine"] == []
            times = [json.loads(line)["time"] for line in _read_lines(tmp_path / "landing" / relative)]
            assert times == sorted(times), relative


def test_simulate_rerun_with_same_config_leaves_files_alone(tmp_path: Path) -> None:
    config = SimulationConfig(days=2, scale=0.1)
    simulate(tmp_path / "landing", tmp_path / "m.json", config)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "landing").rglob("*") if p.is_file()}
    simulate(tmp_path / "landing", tmp_path / "m.json", config)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "landing").rglob("*") if p.is_file()}
    assert after == before


def test_simulate_refuses_to_overwrite_a_different_file(tmp_path: Path) -> None:
    simulate(
        tmp_path / "landing",
        tmp_path / "m.json",
        SimulationConfig(days=2, scale=0.1, seed=1),
    )
    with pytest.raises(FileExistsError, match="immutable"):
        simulate(
            tmp_path / "landing",
            tmp_path / "m.json",
            SimulationConfig(days=2, scale=0.1, seed=2),
        )


def test_simulate_splits_files_above_the_line_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dirt_module, "MAX_LINES_PER_FILE", 100)
    manifest = simulate(tmp_path / "landing", tmp_path / "m.json", SimulationConfig(days=2, scale=0.5))
    parts = [p for p in manifest["files"] if p.startswith("sales/events/2026-10-01-part-")]
    assert parts[0].endswith("-part-000.jsonl") and len(parts) > 1
    for relative, entry in manifest["files"].items():
        if entry["kind"] == "events":
            assert entry["records"] == len(_read_lines(tmp_path / "landing" / relative)) <= 100


def test_simulate_reports_progress_per_file(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    manifest = simulate(
        tmp_path / "l",
        tmp_path / "m.json",
        SimulationConfig(days=2, scale=0.1),
        progress=lambda step, done, total: calls.append((step, done, total)),
    )
    writes = [c for c in calls if c[0] == "write"]
    assert writes[-1] == ("write", len(manifest["files"]), len(manifest["files"]))
    assert [c[1] for c in writes] == list(range(1, len(manifest["files"]) + 1))


def test_config_rejects_dirt_rates_above_one() -> None:
    with pytest.raises(ValueError, match="dirt"):
        SimulationConfig(dirt=50.0)


def test_config_is_written_into_the_manifest(landing: Landing) -> None:
    result = landing.manifest["config"]
    assert result["rates"] == vars(DirtRates()) and result["start"] == "2026-10-01"
    assert (result["days"], result["scale"], result["seed"], result["dirt"]) == (
        10,
        1.0,
        3,
        4.0,
    )
