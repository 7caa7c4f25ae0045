"""The alerts and the workbook (infra/modules/operations.bicep) ask for what the app really emits.

Both ways: every metric and dimension a query names is a constant of shared/telemetry/metrics.py, and
every constant is charted or alerted on (or listed below with the reason it is not); every metric
constant is emitted somewhere in shared/; the functions and tables queried exist.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from typing import Any

import pytest

from shared.domain.recordings import RecordingStage, RecordingStatus
from shared.telemetry import metrics
from tests.infra.bicep_text import INFRA, ROOT, BicepFile, Expr, Resource, load

OPERATIONS = INFRA / "modules" / "operations.bicep"
WORKBOOK = INFRA / "modules" / "operations.workbook.json"

# Constants no query uses, each with the reason (none today: every signal is charted or alerted on).
NOT_CHARTED: dict[str, str] = {}

# The tables the queries read: the app's metrics and the Functions host's invocations.
TABLES = {"customMetrics", "requests"}

_NAME_IS = re.compile(r'\bname\s*==\s*"([^"]+)"')
_NAME_IN = re.compile(r"\bname\s+in\s*\(([^)]*)\)")
_DIMENSION = re.compile(r'customDimensions(?:\.(\w+)|\[\s*"([^"]+)"\s*\])')
_DIMENSION_IS = re.compile(r'tostring\(customDimensions\.(\w+)\)\s*==\s*"([^"]*)"')


@cache
def operations() -> BicepFile:
    return load(OPERATIONS)


def alert_queries() -> dict[str, str]:
    """Each scheduled query rule's query, by the rule's symbol."""
    queries: dict[str, str] = {}
    for rule in operations().resources_of("Microsoft.Insights/scheduledQueryRules"):
        [criterion] = rule.get("properties.criteria.allOf")
        queries[rule.symbol] = criterion["query"]
    return queries


def workbook() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    return document


def workbook_queries() -> dict[str, str]:
    return {
        item["content"]["title"]: item["content"]["query"]
        for item in workbook()["items"]
        if item["type"] == 3  # a query item
    }


def all_queries() -> dict[str, str]:
    return {**{f"alert {k}": v for k, v in alert_queries().items()}, **workbook_queries()}


def table(query: str) -> str:
    return query.strip().split("\n", 1)[0].split("|", 1)[0].strip()


def names_in(query: str) -> set[str]:
    found = set(_NAME_IS.findall(query))
    for listed in _NAME_IN.findall(query):
        found |= set(re.findall(r'"([^"]+)"', listed))
    return found


def dimensions_in(query: str) -> set[str]:
    return {a or b for a, b in _DIMENSION.findall(query)}


def emitted_metric_constants() -> set[str]:
    """The constants shared/ passes to metrics.add or metrics.record."""
    found: set[str] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        found |= set(re.findall(r"metrics\.(?:add|record)\(\s*metrics\.([A-Z_]+)", path.read_text("utf-8")))
    return found


def test_the_module_is_deployed_with_what_it_alerts_on() -> None:
    main = load(INFRA / "main.bicep").text
    assert "module operations 'modules/operations.bicep'" in main
    assert "appInsightsId: monitoring.outputs.appInsightsId" in main
    assert "storageTopicName: eventGrid.outputs.storageTopicName" in main
    assert "acsTopicName: eventGrid.outputs.acsTopicName" in main
    assert "alertEmail: alertEmail" in main


def test_queries_read_only_tables_the_app_fills() -> None:
    queries = all_queries()
    assert len(alert_queries()) == 5
    assert len(workbook_queries()) >= 6
    for title, query in queries.items():
        assert table(query) in TABLES, f"{title}: reads {table(query)!r}"


def test_every_metric_and_dimension_a_query_names_is_a_constant() -> None:
    for title, query in all_queries().items():
        if table(query) != "customMetrics":
            continue
        names = names_in(query)
        assert names, f"{title}: a customMetrics query picks its metric by name"
        assert names <= set(metrics.METRICS), f"{title}: not emitted: {names - set(metrics.METRICS)}"
        dimensions = dimensions_in(query)
        assert dimensions <= set(metrics.DIMENSIONS), (
            f"{title}: no such dimension: {dimensions - set(metrics.DIMENSIONS)}"
        )


def test_dimension_values_compared_are_values_the_app_writes() -> None:
    values = {
        metrics.STATUS: {RecordingStatus.COMPLETED.value, RecordingStatus.FAILED.value},
        metrics.STAGE: {s.value for s in RecordingStage},
    }
    compared = [(t, d, v) for t, q in all_queries().items() for d, v in _DIMENSION_IS.findall(q)]
    assert compared, "the failure alert and chart compare the status"
    for title, dimension, value in compared:
        assert value in values.get(dimension, set()), f"{title}: {dimension} is never {value!r}"


def test_every_constant_is_charted_or_alerted_on_or_says_why_not() -> None:
    queries = all_queries().values()
    used_names = set().union(*(names_in(q) for q in queries if table(q) == "customMetrics"))
    used_dimensions = set().union(*(dimensions_in(q) for q in queries))
    for name in (*metrics.METRICS, *metrics.DIMENSIONS):
        used = name in used_names or name in used_dimensions
        assert used or name in NOT_CHARTED, f"{name} is emitted but no alert or chart uses it"
        assert not (used and name in NOT_CHARTED), f"{name} is charted: take it out of NOT_CHARTED"
    assert len(set(metrics.METRICS)) == len(metrics.METRICS)
    assert len(set(metrics.DIMENSIONS)) == len(metrics.DIMENSIONS)


def test_every_metric_constant_is_emitted_by_the_app() -> None:
    emitted = {getattr(metrics, constant) for constant in emitted_metric_constants()}
    assert emitted == set(metrics.METRICS)


def test_the_poison_alert_names_every_poison_function_and_only_those() -> None:
    source = (ROOT / "functions" / "pipeline.py").read_text(encoding="utf-8")
    poison_functions = set(re.findall(r'function_name\("(\w+_poisoned)"\)', source))
    assert len(poison_functions) == 3
    assert names_in(alert_queries()["poisonedJob"]) == poison_functions
    poison_queues = set(re.findall(r'queue_name="([\w-]+-poison)"', source))
    assert {f"{name.removesuffix('_poisoned').replace('_', '-')}s-poison" for name in poison_functions} == (
        poison_queues
    )


def test_requests_queries_name_only_functions_of_the_app() -> None:
    functions = set(re.findall(r'function_name\("(\w+)"\)', _functions_source()))
    functions |= set(re.findall(r'\bname="(\w+)"', _functions_source()))
    for title, query in all_queries().items():
        if table(query) == "requests":
            assert names_in(query) <= functions, f"{title}: {names_in(query) - functions}"


def _functions_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "functions").glob("*.py")))


def test_dead_letters_are_alerted_on_for_both_system_topics() -> None:
    [alert] = operations().resources_of("Microsoft.Insights/metricAlerts")
    assert alert.loop == "topic in topics"
    [criterion] = alert.get("properties.criteria.allOf")
    assert (criterion["metricNamespace"], criterion["metricName"]) == (
        "Microsoft.EventGrid/systemTopics",
        "DeadLetteredCount",
    )
    assert alert.get("properties.scopes") == [Expr("resourceId('Microsoft.EventGrid/systemTopics', topic)")]
    assert operations().variables["topics"] == [Expr("storageTopicName"), Expr("acsTopicName")]
    eventgrid = load(INFRA / "modules" / "eventgrid.bicep")
    topic_types = {
        r.get("properties.topicType") for r in eventgrid.resources_of("Microsoft.EventGrid/systemTopics")
    }
    assert topic_types == {
        "Microsoft.Storage.StorageAccounts",
        "Microsoft.Communication.CommunicationServices",
    }


def test_the_timeout_alert_matches_host_json() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    hours, minutes, seconds = (int(part) for part in host["functionTimeout"].split(":"))
    timeout = timedelta(hours=hours, minutes=minutes, seconds=seconds).total_seconds()
    assert operations().params["functionTimeoutSeconds"].default == str(int(timeout))
    [criterion] = _rule("jobNearTimeout").get("properties.criteria.allOf")
    assert criterion["threshold"] == Expr("functionTimeoutSeconds * 9 / 10")


def _rule(symbol: str) -> Resource:
    [rule] = [r for r in operations().resources if r.symbol == symbol]
    return rule


@pytest.mark.parametrize(
    "symbol",
    ["poisonedJob", "failedRecordings", "http5xx", "jobNearTimeout", "reconcilerHealed", "deadLettered"],
)
def test_alerts_notify_the_action_group_which_exists_only_with_an_email(symbol: str) -> None:
    group = _rule("actionGroup")
    assert group.condition == "!empty(alertEmail)"
    assert group.get("properties.emailReceivers")[0]["emailAddress"] == Expr("alertEmail")
    text = operations().text
    assert (
        "var actionGroups = empty(alertEmail) ? [] : [resourceId('Microsoft.Insights/actionGroups', " in text
    )
    rule = _rule(symbol)
    actions = rule.get("properties.actions")
    # A log alert lists the groups; a metric alert names each group in a loop over the same list.
    assert actions == {"actionGroups": Expr("actionGroups")} or (
        isinstance(actions, Expr)
        and re.fullmatch(r"\[for group in actionGroups: \{\s*actionGroupId: group\s*\}\]", actions)
    ), f"{symbol}: {actions!r}"
    assert rule.get("properties.enabled") is True


def test_the_workbook_is_the_app_insights_one_and_loads_its_json() -> None:
    book = _rule("workbook")
    assert book.get("properties.sourceId") == Expr("appInsightsId")
    assert book.get("properties.serializedData") == Expr(f"loadTextContent('{WORKBOOK.name}')")
    document = workbook()
    assert document["version"] == "Notebook/1.0"
    titles = set(workbook_queries())
    for wanted in (
        "Recordings per day by status",
        "Failures by error code",
        "Pipeline latency per stage (seconds)",
        "Audio minutes per day",
        "Tokens per day",
        "Estimated cost per meeting hour (USD)",
        "Top slow requests",
    ):
        assert wanted in titles
