"""Great Expectations suites (expectations/) as asset checks named `great_expectations`.

Thin wiring: pipelines.quality loads the dataset, runs the suite and writes Data Docs; this
module maps its result to an AssetCheckResult. A suite with any error-severity expectation
gives a blocking check: when one of those fails the result is ERROR and downstream assets are
skipped; warn-only failures come back as WARN and block nothing.
"""

import dagster as dg

from dagster_project.resources import WAREHOUSE_POOL, AgoraHome
from pipelines.quality import QualityResult, Severity, Suite, load_suites

CHECK_NAME = "great_expectations"


def check_result(result: QualityResult) -> dg.AssetCheckResult:
    """A validation as Dagster sees it: pass/fail, severity, and what failed with its counts."""
    metadata: dict[str, dg.RawMetadataValue] = {
        "rows_validated": result.rows,
        "seconds": round(result.seconds, 3),
        "load_seconds": round(result.load_seconds, 3),
        "validate_seconds": round(result.validate_seconds, 3),
        "docs_seconds": round(result.docs_seconds, 3),
        "expectations": len(result.outcomes),
        "failed_expectations": len(result.failures),
        "clock": result.clock.isoformat(),
    }
    if result.previous_rows is not None:
        metadata["previous_rows"] = result.previous_rows
    if result.docs_page is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(result.docs_page))
    for outcome in result.failures:
        metadata[f"failed: {outcome.label}"] = dg.MetadataValue.json(outcome.summary())
    severity = dg.AssetCheckSeverity.ERROR if result.severity is Severity.ERROR else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=result.passed, severity=severity, metadata=metadata)


def quality_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=CHECK_NAME,
        description=f"Great Expectations suite expectations/{suite.dataset}.yml: {suite.description}",
        blocking=suite.blocking,
        pool=WAREHOUSE_POOL,
        metadata={"suite": f"expectations/{suite.dataset}.yml", "dataset": suite.dataset},
    )
    def great_expectations(context: dg.AssetCheckExecutionContext, agora: AgoraHome) -> dg.AssetCheckResult:
        from pipelines.quality import validate
        from pipelines.warehouse import connect

        home = agora.home
        con = connect(home.warehouse, read_only=True)
        try:
            result = validate(con, suite, home)
        finally:
            con.close()
        context.log.info(
            f"{suite.dataset}: {len(result.outcomes) - len(result.failures)}/{len(result.outcomes)} expectations "
            f"passed on {result.rows:,} rows in {result.seconds:.2f} s (load {result.load_seconds:.2f} s, "
            f"GE {result.validate_seconds:.2f} s, Data Docs {result.docs_seconds:.2f} s)"
        )
        return check_result(result)

    return great_expectations


def quality_defs() -> dg.Definitions:
    """One `great_expectations` check per suite in expectations/."""
    return dg.Definitions(asset_checks=[quality_check(s) for s in load_suites().values()])
