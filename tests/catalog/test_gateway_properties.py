"""Property: the gateway refuses exactly the queries that read an ungranted dataset, and names
exactly those datasets (DESIGN.md, guarantee 6).

Hypothesis composes queries over granted and ungranted datasets — joins, lateral joins, set
operations, CTEs (some shadowing dataset names, in another case or quoted), subqueries in FROM
and WHERE at random depth, aliases, quoting and case variants of every name — for random
principals of catalog/access.yml. The expected answer comes from the generator, which knows
which datasets each query reads, and from a grant table computed here straight from
access.yml, not through catalog.access. Nothing is executed: only the gateway's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.access import Dataset
from catalog.gateway import QueryRefused, Session
from pipelines.home import Home, catalog_dir

PRINCIPALS = [
    p["name"] for p in yaml.safe_load((catalog_dir() / "access.yml").read_text(encoding="utf-8"))["principals"]
]
TABLES = [
    "order_to_cash",
    "customer_360",
    "campaign_attribution",
    "delivery_quality",
    "support_load",
    "sales_orders",
    "sales_customers",
    "finance_invoices",
    "marketing_campaigns",
    "support_tickets",
    "support_agents",
    "devops_services",
    "sales_vip_orders",  # a view over sales_customers and sales_orders (conftest)
]
VIEW_READS = {"sales_vip_orders": {"sales_customers", "sales_orders"}}


def grant_table(datasets: dict[str, Dataset]) -> dict[str, set[str]]:
    """principal -> datasets it may read, from access.yml: its grants, its roles' grants, and
    those of every team it is (transitively) a member of."""
    doc = yaml.safe_load((catalog_dir() / "access.yml").read_text(encoding="utf-8"))
    roles = {name: (entry or {}).get("grants") or [] for name, entry in (doc.get("roles") or {}).items()}
    principals = {p["name"]: p for p in doc["principals"]}

    def grants(name: str) -> list[dict]:
        entry = principals[name]
        result = list(entry.get("grants") or [])
        for role in entry.get("roles") or []:
            result.extend(roles[role])
        for team in entry.get("member_of") or []:
            result.extend(grants(team))
        return result

    def matches(grant: dict, dataset: Dataset) -> bool:
        ((kind, value),) = grant.items()
        return {
            "all": value is True,
            "dataset": value in (dataset.name, f"{dataset.schema}.{dataset.table or dataset.name}"),
            "domain": value == dataset.domain,
            "tag": value in dataset.tags,
        }[kind]

    return {
        name: {d.name for d in datasets.values() if any(matches(g, d) for g in grants(name))} for name in principals
    }


@dataclass(frozen=True)
class Query:
    sql: str
    reads: frozenset[str]  # datasets read, as the generator built it


def _case(draw: st.DrawFn, name: str) -> str:
    style = draw(st.sampled_from(["lower", "upper", "title", "random"]))
    if style == "upper":
        return name.upper()
    if style == "title":
        return name.title()
    if style == "random":
        flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        return "".join(c.upper() if f else c for c, f in zip(name, flips, strict=True))
    return name


def _ident(draw: st.DrawFn, name: str) -> str:
    cased = _case(draw, name)
    return f'"{cased}"' if draw(st.booleans()) else cased


def _table_ref(draw: st.DrawFn, table: str, schemas: dict[str, str], shadowed: frozenset[str]) -> Query:
    """A reference to a dataset: bare, schema- or catalog-qualified; a bare name shadowed by a
    CTE in scope reads the CTE, not the dataset."""
    form = draw(st.sampled_from(["bare", "schema", "catalog"]))
    parts = (
        [table]
        if form == "bare"
        else [schemas[table], table]
        if form == "schema"
        else ["serving", schemas[table], table]
    )
    sql = ".".join(_ident(draw, p) for p in parts)
    return Query(sql, frozenset() if form == "bare" and table in shadowed else frozenset({table}))


@st.composite
def queries(
    draw: st.DrawFn, schemas: dict[str, str], depth: int = 0, ctes: frozenset[str] = frozenset(), names: tuple = ()
) -> Query:
    """A one-column query (`x`) reading random datasets through random compositions."""
    alias = f"a{depth}_{draw(st.integers(0, 99))}"
    kinds = ["table", "cte_ref"] if ctes else ["table"]
    if depth < 5:
        kinds += ["derived", "join", "lateral", "set", "where", "with", "scalar"]
    kind = draw(st.sampled_from(kinds))

    def sub(scope: frozenset[str] = ctes) -> Query:
        return draw(queries(schemas, depth + 1, scope))

    if kind == "table":
        ref = _table_ref(draw, draw(st.sampled_from(TABLES)), schemas, ctes)
        return Query(f"SELECT 1 AS x FROM {ref.sql} AS {alias}", ref.reads)
    if kind == "cte_ref":
        name = _ident(draw, draw(st.sampled_from(sorted(ctes))))
        return Query(f"SELECT x FROM {name} AS {alias}", frozenset())
    if kind == "derived":
        inner = sub()
        return Query(f"SELECT x FROM ({inner.sql}) AS {alias}", inner.reads)
    if kind == "join":
        left, right = sub(), sub()
        join = draw(st.sampled_from(["JOIN", "LEFT JOIN", "FULL JOIN", "INNER JOIN"]))
        return Query(
            f"SELECT {alias}_l.x FROM ({left.sql}) AS {alias}_l {join} ({right.sql}) AS {alias}_r ON {alias}_l.x = {alias}_r.x",
            left.reads | right.reads,
        )
    if kind == "lateral":
        left, right = sub(), sub()
        return Query(
            f"SELECT {alias}_l.x FROM ({left.sql}) AS {alias}_l, LATERAL ({right.sql}) AS {alias}_r",
            left.reads | right.reads,
        )
    if kind == "set":
        left, right = sub(), sub()
        operator = draw(st.sampled_from(["UNION", "UNION ALL", "EXCEPT", "INTERSECT"]))
        return Query(f"SELECT x FROM (({left.sql}) {operator} ({right.sql})) AS {alias}", left.reads | right.reads)
    if kind == "where":
        outer, inner = sub(), sub()
        test = draw(st.sampled_from(["x IN ({})", "EXISTS ({})", "NOT EXISTS ({})"]))
        return Query(
            f"SELECT x FROM ({outer.sql}) AS {alias} WHERE {test.format(inner.sql)}", outer.reads | inner.reads
        )
    if kind == "scalar":
        outer, inner = sub(), sub()
        return Query(f"SELECT ({inner.sql} LIMIT 1) AS x FROM ({outer.sql}) AS {alias}", outer.reads | inner.reads)
    # with: the CTE's name is fresh or shadows a dataset; its body does not see it, the rest does
    name = draw(st.sampled_from([f"cte_{depth}", *TABLES]))
    body = sub()
    rest = sub(ctes | {name})
    return Query(f"WITH {_ident(draw, name)} AS ({body.sql}) {rest.sql}", body.reads | rest.reads)


@pytest.fixture(scope="module")
def world(served: Home) -> tuple[dict[str, Session], dict[str, set[str]], dict[str, str], dict[str, str]]:
    sessions = {p: Session(p, served, source="test") for p in PRINCIPALS}
    datasets = next(iter(sessions.values())).catalog.datasets
    schemas = {t: datasets[t].schema for t in TABLES}
    relations = {t: datasets[t].relation for t in TABLES}
    return sessions, grant_table(datasets), schemas, relations


def test_grant_table_agrees_with_agora_access(world: tuple) -> None:
    sessions, grants, _, _ = world
    result = {p: set(s.permissions().allowed) for p, s in sessions.items()}
    assert result == grants


def test_gateway_decision_matches_the_grant_table(world: tuple) -> None:
    sessions, grants, schemas, relations = world

    @settings(
        max_examples=500,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(principal=st.sampled_from(PRINCIPALS), query=queries(schemas))
    def check(principal: str, query: Query) -> None:
        read = set(query.reads)
        for view, under in VIEW_READS.items():
            if view in read:
                read |= under
        expected = sorted(relations[t] for t in read - grants[principal])
        try:
            plan = sessions[principal].plan(query.sql)
        except QueryRefused as refused:
            assert (refused.reason, sorted(refused.relations)) == ("unauthorized", expected), query.sql
        else:
            assert expected == [], query.sql
            assert set(plan.relations) == read, query.sql

    check()
