"""catalog/access.yml and the bulk permission check (DESIGN.md, guarantee 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.access import UnknownPrincipalError, load_access, load_datasets
from catalog.declarations import DeclarationError
from catalog.gateway import Session
from pipelines.home import Home
from tests.catalog.conftest import write_access
from tests.conftest import run_agora

MARTS = {"order_to_cash", "customer_360", "campaign_attribution", "delivery_quality", "support_load"}


def _allowed(home: Home, principal: str) -> set[str]:
    return set(Session(principal, home).permissions().allowed)


def _domain(home: Home, domain: str) -> set[str]:
    datasets = load_datasets(home)
    return {d.name for d in datasets.values() if d.domain == domain}


def test_platform_admin_reads_everything_pii_cleared(served: Home) -> None:
    permissions = Session("platform-admin", served).permissions()
    assert all(d.allowed for d in permissions.decisions)
    assert permissions.pii_cleared
    assert not any(d.masked_columns for d in permissions.decisions)


def test_exec_dashboard_reads_the_five_marts_masked(served: Home) -> None:
    permissions = Session("exec-dashboard", served).permissions()
    assert set(permissions.allowed) == MARTS
    assert permissions.decision("customer_360").masked_columns == ("customer_email", "customer_name")  # type: ignore[union-attr]


def test_finance_analyst_grants(served: Home) -> None:
    assert _allowed(served, "finance-analyst") == _domain(served, "finance") | {"order_to_cash", "customer_360"}


def test_sales_analyst_grants(served: Home) -> None:
    expected = _domain(served, "sales") | {"customer_360", "campaign_attribution"}
    permissions = Session("sales-analyst", served).permissions()
    assert set(permissions.allowed) == expected
    assert permissions.decision("sales_customers").masked_columns == ("customer_email", "customer_name")  # type: ignore[union-attr]


def test_marketing_analyst_grants(served: Home) -> None:
    assert _allowed(served, "marketing-analyst") == _domain(served, "marketing") | {"campaign_attribution"}


def test_support_agent_bot_grants(served: Home) -> None:
    permissions = Session("support-agent-bot", served).permissions()
    assert set(permissions.allowed) == _domain(served, "support") | {"customer_360"}
    assert permissions.kind == "ai_agent"
    assert permissions.decision("customer_360").masked_columns == ("customer_email", "customer_name")  # type: ignore[union-attr]


def test_person_inherits_team_access(served: Home) -> None:
    assert _allowed(served, "ana.controller@agora.example") == _allowed(served, "finance-analyst")


def test_unknown_principal_is_denied_everything(served: Home) -> None:
    with pytest.raises(UnknownPrincipalError, match="unknown principal 'intruder'"):
        Session("intruder", served).permissions()


def test_every_decision_names_its_rule(served: Home) -> None:
    permissions = Session("finance-analyst", served).permissions()
    rules = {d.dataset: d.rule for d in permissions.decisions}
    assert rules["finance_invoices"] == "role finance-reader (of finance-analyst) grants domain finance"
    assert rules["order_to_cash"] == "principal finance-analyst grants dataset order_to_cash"
    assert rules["sales_orders"] == "no grant matches (denied by default)"


def test_grant_of_unknown_dataset_is_rejected(served: Home, tmp_path: Path) -> None:
    path = write_access(tmp_path / "access.yml", "  - {name: x, kind: person, grants: [{dataset: nope}]}\n")
    with pytest.raises(DeclarationError, match="unknown dataset 'nope'"):
        load_access(load_datasets(served), path)


def test_unknown_consumer_is_rejected(served: Home, tmp_path: Path) -> None:
    path = write_access(tmp_path / "access.yml", "  - {name: x, kind: ai_agent, consumer: ghost}\n")
    with pytest.raises(DeclarationError, match="unknown consumer 'ghost'"):
        load_access(load_datasets(served), path)


def test_membership_cycle_is_rejected(served: Home, tmp_path: Path) -> None:
    principals = "  - {name: a, kind: team, member_of: [b]}\n  - {name: b, kind: team, member_of: [a]}\n"
    with pytest.raises(DeclarationError, match="membership cycle"):
        load_access(load_datasets(served), write_access(tmp_path / "access.yml", principals))


@pytest.mark.integration
def test_cli_access_json_is_one_bulk_answer(served: Home) -> None:
    result = run_agora(served, "access", "support-agent-bot", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    decisions = {d["dataset"]: d for d in doc["datasets"]}
    assert decisions["customer_360"]["allowed"] and decisions["customer_360"]["masked_columns"] == [
        "customer_email",
        "customer_name",
    ]
    assert not decisions["order_to_cash"]["allowed"]


@pytest.mark.integration
def test_cli_access_unknown_principal_is_one_line(served: Home) -> None:
    result = run_agora(served, "access", "intruder")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "unknown principal" in result.stderr
    assert "Traceback" not in result.stderr
