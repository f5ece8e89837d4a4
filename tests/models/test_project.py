"""dbt's own view of the project after a real build: groups, owners, access, contracts,
exposures, and marts that read only public interfaces and analytics-owned intermediates."""

from __future__ import annotations

import re

import duckdb
import pytest

from catalog.declarations import load_consumers, load_domains, load_platform
from pipelines.home import REPO_ROOT, Home

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARTS = {"order_to_cash", "customer_360", "campaign_attribution", "delivery_quality", "support_load"}


def _public_models_in_spec() -> set[str]:
    """Public interface names as models/README.md lists them (`- \\`name\\` — ...`)."""
    text = (REPO_ROOT / "models" / "README.md").read_text()
    section = text.split("## Public interfaces", 1)[1].split("## Marts", 1)[0]
    return set(re.findall(r"^- `([a-z_]+)`", section, flags=re.M))


def _models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_project_every_model_belongs_to_a_group(built: tuple[Home, dict]) -> None:
    _, manifest = built
    result = sorted(name for name, node in _models(manifest).items() if not node["config"].get("group"))

    assert result == []


def test_project_group_owners_come_from_domains_yml(built: tuple[Home, dict]) -> None:
    _, manifest = built
    result = {g["name"]: (g["owner"]["name"], g["owner"]["email"]) for g in manifest["groups"].values()}

    expected = {d.name: (d.team, d.contact) for d in [*load_domains(), load_platform()]}
    assert result == expected


def test_project_public_models_are_the_specified_interfaces_and_marts(built: tuple[Home, dict]) -> None:
    _, manifest = built
    result = {name for name, node in _models(manifest).items() if node["access"] == "public"}

    assert result == _public_models_in_spec() | MARTS


def test_project_public_models_enforce_contracts(built: tuple[Home, dict]) -> None:
    _, manifest = built
    result = sorted(
        name
        for name, node in _models(manifest).items()
        if node["access"] == "public" and not node["config"]["contract"]["enforced"]
    )

    assert result == []


def _reads_allowed_to_marts(node: dict) -> str:
    """'public' (a domain's interface, not a mart), 'analytics' (a private model of the marts'
    own group, whose own reads are checked in turn) or '' (not allowed)."""
    if node["resource_type"] != "model" or node["name"] in MARTS:
        return ""
    if node["access"] == "public":
        return "public"
    return "analytics" if node["config"].get("group") == "analytics" else ""


def test_project_marts_read_only_public_models(built: tuple[Home, dict]) -> None:
    """Every mart's upstream, transitively, is public interfaces or analytics-owned intermediates
    (the cash rule lives in one of those): never another domain's private model or a mart."""
    _, manifest = built
    nodes = manifest["nodes"]
    offenders = []
    for name in MARTS:
        mart = next(n for n in nodes.values() if n["resource_type"] == "model" and n["name"] == name)
        pending = [(name, parent) for parent in mart["depends_on"]["nodes"]]
        while pending:
            child, parent = pending.pop()
            kind = _reads_allowed_to_marts(nodes[parent]) if parent.startswith("model.") else ""
            if not kind:
                offenders.append(f"{child} <- {parent}")
            elif kind == "analytics":
                pending.extend((nodes[parent]["name"], grand) for grand in nodes[parent]["depends_on"]["nodes"])

    assert offenders == []


def test_project_cash_rule_lives_in_one_analytics_model(built: tuple[Home, dict]) -> None:
    """Payments minus refunds is computed once (int_orders_cashed), not restated per mart: it is
    the only model that reads the refunds."""
    _, manifest = built
    result = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "model.agora.finance_refunds" in node["depends_on"]["nodes"]
    )

    assert result == ["int_orders_cashed"]


def test_project_exposures_have_owners_and_upstream_models(built: tuple[Home, dict]) -> None:
    _, manifest = built
    exposures = {e["name"]: e for e in manifest["exposures"].values()}

    for consumer in load_consumers():
        exposure = exposures[consumer.name]
        assert exposure["owner"]["email"] == consumer.owner_email
        assert len(exposure["depends_on"]["nodes"]) == len(consumer.reads)


def test_project_pii_columns_are_tagged_wherever_customer_values_flow(built: tuple[Home, dict]) -> None:
    """Empirical PII lineage: any column of any built relation that holds a customer's email or
    name (the contract's PII) must carry meta.pii in its model's YAML."""
    home, manifest = built
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        samples = con.execute(
            "SELECT DISTINCT v FROM (SELECT email AS v FROM raw_sales.customers UNION ALL "
            "SELECT name FROM raw_sales.customers) USING SAMPLE 200 ROWS"
        ).fetchall()
        values = [v for (v,) in samples]
        untagged = []
        for node in _models(manifest).values():
            if node["config"]["materialized"] == "ephemeral":
                continue
            relation = f"{node['schema']}.{node['alias']}"
            columns = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "AND data_type = 'VARCHAR'",
                [node["schema"], node["alias"]],
            ).fetchall()
            for (column,) in columns:
                hit = con.execute(
                    f'SELECT count(*) FROM {relation} WHERE "{column}" IN (SELECT unnest(?::VARCHAR[]))', [values]
                ).fetchone()[0]
                declared = node["columns"].get(column, {}).get("meta", {}).get("pii", False)
                if hit and not declared:
                    untagged.append(f"{relation}.{column}")
    finally:
        con.close()

    assert untagged == []
