"""The dbt YAML that restates catalog declarations is generated, and must not drift."""

from __future__ import annotations

import yaml

from catalog.dbt_files import MODELS, drifted
from catalog.declarations import load_consumers, load_domains, load_platform
from pipelines.contracts import load_contracts


def _yaml(path: str) -> dict:
    return yaml.safe_load((MODELS / path).read_text())


def test_generated_files_match_the_declarations() -> None:
    result = [str(p) for p in drifted()]

    assert result == [], "run `python -m catalog.dbt_files` and commit the result"


def test_groups_are_the_domains_with_their_owners() -> None:
    groups = {g["name"]: g["owner"] for g in _yaml("_groups.yml")["groups"]}

    expected = {d.name: {"name": d.team, "email": d.contact} for d in [*load_domains(), load_platform()]}
    assert groups == expected


def test_exposures_are_the_declared_consumers() -> None:
    exposures = {e["name"]: e for e in _yaml("_exposures.yml")["exposures"]}

    consumers = load_consumers()
    assert sorted(exposures) == sorted(c.name for c in consumers)
    for consumer in consumers:
        exposure = exposures[consumer.name]
        assert exposure["owner"] == {"name": consumer.owner_name, "email": consumer.owner_email}
        assert len(exposure["depends_on"]) == len(consumer.reads)


def test_consumers_cover_the_required_kinds() -> None:
    consumers = {c.name: c for c in load_consumers()}

    for name in (
        "executive_dashboard",
        "finance_close_report",
        "marketing_roi_dashboard",
        "support_ops_microsite",
        "support_assistant_agent",
    ):
        assert name in consumers
    assert sum(1 for c in consumers.values() if c.name.endswith("_team")) >= 2


def test_source_pii_meta_comes_from_the_contracts() -> None:
    contracts = load_contracts()
    for domain in load_domains():
        doc = _yaml(f"staging/{domain.name}/_{domain.name}__sources.yml")
        for table in doc["sources"][0]["tables"]:
            contract = contracts.extract(domain.name, table["name"])
            if contract is None:
                continue
            result = sorted(c["name"] for c in table["columns"] if c.get("meta", {}).get("pii"))
            expected = sorted(c.name for c in contract.columns if c.pii)
            assert result == expected, f"{domain.name}.{table['name']}"
