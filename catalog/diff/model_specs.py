"""Model specs: every dbt model at one revision, as dbt would configure it.

A model's settings merge dbt_project.yml's `models:` tree (deeper folders win), its YAML entry's
`config:` and the SQL's `{{ config(...) }}` (last wins, as in dbt). Its grain is what declares a
row: `unique_key`, model-level `unique` tests, and a `meta.grain` or a "Grain: …" sentence in the
description. Columns are the YAML entry's (None when it describes none).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog.diff.errors import DiffError
from catalog.diff.revisions import MODELS, PROJECT
from catalog.diff.specs import ColumnSpec, Spec, parse_yaml

_CONFIG_KEYS = ("access", "contract", "materialized", "unique_key", "meta")
_SQL_CONFIG = re.compile(r"\bconfig\s*\((?P<body>.*?)\)\s*}}", re.S)
_SQL_SETTING = re.compile(r"\b(?P<key>unique_key|materialized|access)\s*=\s*(?P<value>\[[^\]]*\]|'[^']*'|\"[^\"]*\")")
# "Grain: one row per order, i.e. per order_id. Next sentence" → up to the sentence's end
_GRAIN = re.compile(r"\b[Gg]rain\s*:\s*(?P<grain>.+?)(?:\.\s+(?=[A-Z`])|\.$|$)")


def _project_config(project: dict, folders: tuple[str, ...]) -> dict[str, Any]:
    """dbt_project.yml's `models:` settings for a model in `folders` (deeper folders win)."""
    tree = (project.get("models") or {}).get(project.get("name")) or {}
    config: dict[str, Any] = {}
    for depth in range(len(folders) + 1):
        for key, value in tree.items():
            bare = key.removeprefix("+")
            if bare in _CONFIG_KEYS and (key.startswith("+") or not isinstance(value, dict) or bare == "contract"):
                config[bare] = value
        if depth == len(folders):
            break
        tree = tree.get(folders[depth])
        if not isinstance(tree, dict):
            break
    return config


def _sql_config(sql: str) -> dict[str, Any]:
    found = _SQL_CONFIG.search(sql)
    config: dict[str, Any] = {}
    for match in _SQL_SETTING.finditer(found.group("body") if found else ""):
        config[match.group("key")] = ast.literal_eval(match.group("value"))
    return config


def _key_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _grain_text(entry: dict, config: dict) -> str | None:
    meta = {**(entry.get("meta") or {}), **(config.get("meta") or {})}
    declared = meta.get("grain")
    if declared is None:
        match = _GRAIN.search(" ".join(str(entry.get("description") or "").split()))
        declared = match.group("grain") if match else None
    if declared is None:
        return None
    return " ".join(str(declared).replace("`", "").split()).lower().rstrip(".")


def _unique_tests(tests: list | None) -> list[str]:
    """column_name of every model-level `unique` test (the model's declared key)."""
    found = []
    for test in tests or ():
        if isinstance(test, dict) and "unique" in test:
            body = test["unique"] or {}
            args = body.get("arguments") or body
            if args.get("column_name"):
                found.append(" ".join(str(args["column_name"]).split()))
    return found


def _not_null(column: dict) -> bool:
    constraints = {c.get("type") for c in column.get("constraints") or () if isinstance(c, dict)}
    tests = column.get("data_tests") or column.get("tests") or ()
    named = {t if isinstance(t, str) else next(iter(t), None) for t in tests}
    return bool(constraints & {"not_null", "primary_key"}) or "not_null" in named


def model_specs(files: Mapping[str, str], label: str) -> tuple[list[Spec], dict[str, str]]:
    """Every model's spec, and its SQL by name (a payload change is routed through it)."""
    project = parse_yaml(files.get(PROJECT, ""), f"{label}{PROJECT}") or {}
    sql: dict[str, str] = {}
    where: dict[str, str] = {}
    for rel, text in sorted(files.items()):
        if rel.startswith(f"{MODELS}/") and rel.endswith(".sql"):
            name = Path(rel).stem
            if name in where:
                raise DiffError(f"{label}{rel}: model {name} is already defined in {where[name]}")
            sql[name], where[name] = text, rel
    entries: dict[str, dict] = {}
    for rel, text in sorted(files.items()):
        if not (rel.startswith(f"{MODELS}/") and rel.endswith((".yml", ".yaml"))):
            continue
        doc = parse_yaml(text, f"{label}{rel}") or {}
        for entry in (doc.get("models") or ()) if isinstance(doc, dict) else ():
            if isinstance(entry, dict) and entry.get("name") in sql:
                entries[str(entry["name"])] = entry
    specs = []
    for name, text in sql.items():
        entry = entries.get(name, {})
        config = {
            **_project_config(project, Path(where[name]).parent.parts[1:]),
            **{k: v for k, v in (entry.get("config") or {}).items() if k in _CONFIG_KEYS},
            **({"access": entry["access"]} if entry.get("access") else {}),
            **_sql_config(text),
        }
        grain = []
        if config.get("unique_key"):
            grain.append(("unique_key", _key_text(config["unique_key"])))
        grain += [("unique", expr) for expr in _unique_tests(entry.get("data_tests") or entry.get("tests"))]
        declared = _grain_text(entry, config)
        if declared:
            grain.append(("grain", declared))
        contract = config.get("contract")
        enforced = bool(contract.get("enforced")) if isinstance(contract, dict) else False
        settings = (
            ("access", str(config.get("access") or "protected")),
            ("contract", "enforced" if enforced else "not enforced"),
            ("materialized", str(config.get("materialized") or "view")),
        )
        described = entry.get("columns") or None
        columns = (
            tuple(
                ColumnSpec(
                    str(c["name"]),
                    " ".join(str(c["data_type"]).lower().split()) if c.get("data_type") else None,
                    _not_null(c),
                )
                for c in described
                if isinstance(c, dict) and c.get("name")
            )
            if described
            else None
        )
        specs.append(Spec("model", name, name, where[name], columns, tuple(grain), settings))
    return specs, sql
