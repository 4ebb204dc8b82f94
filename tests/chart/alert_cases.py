"""`promtool test rules` cases for every alert, generated from the rendered rules and values.

For each alert: input series with entities that must fire (checked with their full labels
and annotations) and entities that must not (healthy, below the threshold, true for less
than the rule's `for:`), plus an early evaluation where nothing has lasted long enough.
Timing comes from each rendered rule's `for:`, thresholds from the values the chart was
rendered with, so a changed default or a tuned install is tested as rendered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tests.chart.promtool_cases import Group, Rule, humanize_duration, seconds

NS, CLUSTER = "metrics-ai", "prod-east"
Values = list[float] | float
"""A series' values: one per minute, or a constant."""
CLIENT = {"job": "metrics-ai-alerting", "namespace": NS, "pod": "metrics-ai-alerting-6f7d9-x2x4z", "cluster": CLUSTER}
PREDICTOR = {"job": "metrics-ai-predictor-metrics", "namespace": NS}
KSM = {"job": "kube-state-metrics", "namespace": NS}
#: 2025-11-28 02:00:00 UTC, the start of the failed retrain Job
STARTED = 1764295200
Generator = Callable[[Rule], list[Group]]


def filesystem_filling_up(r: Rule) -> list[Group]:
    """Disks at disk-eta CRITICAL and WARNING fire with their severity; SOON, OK and too recent ones do not."""
    g, name = r.group(), "MetricsAIFilesystemFillingUp"
    recent = r.recent(g)
    disks: list[tuple[str, str, Values, Values]] = [  # node, mountpoint, days to full, severity (over time)
        ("worker-1", "/var", 2.0, 3.0),
        ("worker-2", "/", 5.0, 2.0),
        ("worker-3", "/", 20.0, 1.0),  # SOON: no alert
        ("worker-4", "/", math.inf, 0.0),  # never fills
        ("worker-5", "/var/log", g.switch(math.inf, 2.0, recent), g.switch(0.0, 3.0, recent)),  # too recent
    ]
    for node, mount, days, severity in disks:
        labels = CLIENT | {"node": node, "mountpoint": mount}
        g.add("metrics_ai_disk_days_to_full", labels, days)
        g.add("metrics_ai_disk_fill_severity", labels, severity)
    expected = []
    for node, mount, days, sev, word, within in (
        ("worker-1", "/var", 2, "critical", "CRITICAL", "3 days"),
        ("worker-2", "/", 5, "warning", "WARNING", "7 days"),
    ):
        summary = f"Filesystem {mount} on {node} is predicted to fill up within {within}."
        description = (
            f"metrics-ai predicts that filesystem {mount} on node {node} in cluster {CLUSTER} reaches 90 % used "
            f"in {humanize_duration(days * 86400)} (disk-eta severity {word}: under {within})."
        )
        expected.append(r.alert(CLIENT | {"node": node, "mountpoint": mount}, summary, description, sev))
    g.expect(g.minutes, name, expected)
    r.early(g, name)
    return [g]


def crisis_ahead(r: Rule) -> list[Group]:
    """A crisis 1 day ahead fires; one beyond the threshold, a never, and a too recent one do not."""
    g, name, days = r.group(), "MetricsAICrisisAhead", r.values["days"]
    assert days > 1, "the case puts a crisis 1 day ahead, which must be within the threshold"
    recent = r.recent(g)
    for node, signal, value in (
        ("worker-1", "io_wait", 1.0),
        ("worker-1", "net_tx", days + 1.0),  # beyond the threshold
        ("worker-2", "net_rx", math.inf),  # never
        ("worker-3", "io_wait", g.switch(math.inf, 1.0, recent)),  # too recent
    ):
        g.add("metrics_ai_crisis_days", CLIENT | {"node": node, "signal": signal}, value)
    summary = f"io_wait on worker-1 is predicted to cross its crisis threshold within {days:g} days."
    description = (
        f"metrics-ai predicts that io_wait on node worker-1 in cluster {CLUSTER} crosses its crisis threshold in "
        "1d 0h 0m 0s (io-crisis forecast; see metrics_ai_crisis_forecast_peak and metrics_ai_crisis_threshold)."
    )
    g.expect(g.minutes, name, [r.alert(CLIENT | {"node": "worker-1", "signal": "io_wait"}, summary, description)])
    r.early(g, name)
    return [g]


def forecast_deviation(r: Rule) -> list[Group]:
    """Firing alarms fire (cluster- and node-level); a likely but not firing alarm does not."""
    g, name = r.group(), "MetricsAIForecastDeviation"
    recent = r.recent(g)
    entities: list[tuple[str, str, str, Values, Values]] = [  # entity, signal, node, alarm, likelihood
        (CLUSTER, "cpu", "", 1.0, 0.995),  # a cluster-level forecast has no node
        ("worker-1", "io_wait", "worker-1", 1.0, 0.9999),
        ("worker-2", "net_rx", "worker-2", 0.0, 0.2),  # healthy
        ("worker-3", "net_tx", "worker-3", 0.0, 0.97),  # a high likelihood alone is no page: only the alarm gauge fires
        ("worker-4", "memory", "worker-4", g.switch(0.0, 1.0, recent), 0.999),  # too recent
    ]
    for entity, signal, node, alarm, likelihood in entities:
        labels = CLIENT | {"node": node, "entity": entity, "signal": signal}
        g.add("metrics_ai_forecast_deviation_alarm", labels, alarm)
        g.add("metrics_ai_forecast_anomaly_likelihood", labels, likelihood)
    expected = []
    firing = [(CLUSTER, "cpu", "", "", "99.5%"), ("worker-1", "io_wait", "worker-1", " (node worker-1)", "99.99%")]
    for entity, signal, node, where, pct in firing:
        summary = f"{signal} of {entity} deviates from its forecast."
        description = (
            f"The {signal} of {entity} in cluster {CLUSTER}{where} is deviating from its forecast now: "
            f"its deviation alarm fires (anomaly likelihood {pct})."
        )
        expected.append(r.alert(CLIENT | {"node": node, "entity": entity, "signal": signal}, summary, description))
    g.expect(g.minutes, name, expected)
    r.early(g, name)
    return [g]


def node_outlier(r: Rule) -> list[Group]:
    """A flagged node fires; a normal and a too recently flagged node do not."""
    g, name = r.group(), "MetricsAINodeOutlier"
    recent = r.recent(g)
    for node, flag, score in (
        ("worker-1", 1.0, 0.42),
        ("worker-2", 0.0, 0.05),
        ("worker-3", g.switch(0.0, 1.0, recent), 0.3),
    ):
        g.add("metrics_ai_node_outlier", CLIENT | {"node": node}, flag)
        g.add("metrics_ai_node_outlier_score", CLIENT | {"node": node}, score)
    summary = f"Node worker-1 behaves unlike its peers in cluster {CLUSTER}."
    description = (
        f"node-outliers has flagged node worker-1 in cluster {CLUSTER} for at least {r.values['for']}: its CPU and "
        "memory means over the last 24 hours are unlike its peers' (outlier score 0.42)."
    )
    g.expect(g.minutes, name, [r.alert(CLIENT | {"node": "worker-1"}, summary, description)])
    r.early(g, name)
    return [g]


def cluster_anomaly(r: Rule) -> list[Group]:
    """A flagged cluster fires; a normal and a too recently flagged cluster do not."""
    g, name = r.group(), "MetricsAIClusterAnomaly"
    recent = r.recent(g)
    for cluster, flag, score in (
        (CLUSTER, 1.0, 0.87),
        ("prod-west", 0.0, 0.1),
        ("dev", g.switch(0.0, 1.0, recent), 0.9),
    ):
        g.add("metrics_ai_cluster_anomaly", CLIENT | {"cluster": cluster}, flag)
        g.add("metrics_ai_cluster_anomaly_score", CLIENT | {"cluster": cluster}, score)
    summary = f"The metrics of cluster {CLUSTER} are anomalous."
    description = (
        f"anomaly-detector has flagged the latest metrics of cluster {CLUSTER} (CPU, memory, pod restarts, network) "
        f"as anomalous for at least {r.values['for']} (score 0.87)."
    )
    g.expect(g.minutes, name, [r.alert(CLIENT, summary, description)])
    r.early(g, name)
    return [g]


def model_not_ready(r: Rule) -> list[Group]:
    """A model not ready fires; a ready and a too recently broken one do not."""
    g, name = r.group(), "MetricsAIModelNotReady"
    recent = r.recent(g)
    pods = {
        m: PREDICTOR | {"pod": f"{m}-predictor-5c7b9-abcde", "model": m}
        for m in ("disk-eta", "io-crisis", "node-outliers")
    }
    g.add("metrics_ai_model_ready", pods["disk-eta"], 0.0)
    g.add("metrics_ai_model_ready", pods["io-crisis"], 1.0)  # ready
    g.add("metrics_ai_model_ready", pods["node-outliers"], g.switch(1.0, 0.0, recent))  # too recent
    description = (
        f"Model disk-eta has not been loaded in predictor pod disk-eta-predictor-5c7b9-abcde for at least "
        f"{r.values['for']}: its artifact is missing, corrupt or failed verification, so it answers 503 and the "
        "alerts it feeds stop."
    )
    g.expect(g.minutes, name, [r.alert(pods["disk-eta"], "Model disk-eta is not ready.", description)])
    r.early(g, name)
    return [g]


def retrain_failed(r: Rule) -> list[Group]:
    """The latest failed Job of each CronJob fires; others' Jobs, and a failure followed by a success, do not."""
    name, fullname = "MetricsAIRetrainFailed", "metrics-ai"
    crons = [f"{fullname}-train"] + ([f"{fullname}-update"] if r.chart["update"]["enabled"] else [])

    def job(g: Group, cron: str, n: int, started: float, failed: float, namespace: str = NS) -> str:
        labels = KSM | {"namespace": namespace, "job_name": f"{cron}-{29398920 + n}"}
        owner = labels | {"owner_kind": "CronJob", "owner_name": cron, "owner_is_controller": "true"}
        g.add("kube_job_owner", owner, 1.0)
        g.add("kube_job_owner", owner | {"instance": "10.128.0.6:8443"}, 1.0)  # a second kube-state-metrics
        g.add("kube_job_status_start_time", labels, started)
        g.add("kube_job_status_failed", labels, failed)
        return labels["job_name"]

    latest_failed, expected = r.group(), []
    for cron in crons:  # an older run succeeded, the latest failed
        job(latest_failed, cron, 0, STARTED - 7 * 86400, 0.0)
        failed = job(latest_failed, cron, 1, STARTED, 1.0)
        description = (
            f"Job {failed} of CronJob {cron}, started 2025-11-28 02:00:00 +0000 UTC, failed: a model family failed "
            "to train (exit 1) or the quality gate rejected a new version (exit 3). The current versions keep serving."
        )
        labels = {"namespace": NS, "job_name": failed, "owner_name": cron}
        expected.append(r.alert(labels, f"The latest {cron} Job failed.", description))
    job(latest_failed, "someone-elses-cron", 1, STARTED, 1.0)  # not ours
    job(latest_failed, crons[0], 1, STARTED, 1.0, namespace="another-release")  # another namespace's
    latest_failed.expect(latest_failed.minutes, name, expected)
    r.early(latest_failed, name)
    recovered = r.group()  # a failed run, then a newer one that succeeded: no alert
    for cron in crons:
        job(recovered, cron, 0, STARTED - 7 * 86400, 1.0)
        job(recovered, cron, 1, STARTED, 0.0)
    recovered.expect(recovered.minutes, name, [])
    return [latest_failed, recovered]


def model_stale(r: Rule) -> list[Group]:
    """A version older than maxAgeDays fires; a fresh one and one just past the age do not."""
    g, name, max_days = r.group(), "MetricsAIModelStale", r.values["maxAgeDays"]
    now = g.minutes * 60
    pod = PREDICTOR | {"pod": "predictor-0"}
    g.add("metrics_ai_artifact_created_timestamp_seconds", pod | {"model": "disk-eta"}, now - (max_days + 1) * 86400)
    g.add("metrics_ai_artifact_created_timestamp_seconds", pod | {"model": "io-crisis"}, now - 86400.0)  # fresh
    too_recent = r.recent(g) * 60 - max_days * 86400  # stale only from recent() on
    g.add("metrics_ai_artifact_created_timestamp_seconds", pod | {"model": "node-outliers"}, float(too_recent))
    description = (
        f"The served version of model disk-eta was created {humanize_duration((max_days + 1) * 86400)} ago, more than "
        f"{max_days:g} days (the retrain period plus slack): retraining fails, is suspended or does not publish."
    )
    summary = f"Model disk-eta has not been retrained for over {max_days:g} days."
    g.expect(g.minutes, name, [r.alert({"namespace": NS, "model": "disk-eta"}, summary, description)])
    r.early(g, name)
    return [g]


def reloads_failing(r: Rule) -> list[Group]:
    """A reload failure within the hour fires; old failures and a too recent one do not."""
    name = "MetricsAIReloadsFailing"
    assert r.for_min <= 50, "the case needs a failure within the hour that has lasted the rule's for:"
    g = Group(minutes=80)
    recent = r.recent(g)
    pod = PREDICTOR | {"pod": "predictor-0"}
    g.add(
        "metrics_ai_reload_failures_total", pod | {"model": "disk-eta"}, g.switch(0.0, 1.0, g.minutes - r.for_min - 2)
    )
    g.add("metrics_ai_reload_failures_total", pod | {"model": "io-crisis"}, 3.0)  # failures long ago
    g.add("metrics_ai_reload_failures_total", pod | {"model": "anomaly-detector"}, g.switch(0.0, 1.0, g.minutes - 65))
    g.add("metrics_ai_reload_failures_total", pod | {"model": "node-outliers"}, g.switch(0.0, 1.0, recent))
    description = (
        "A published version of model disk-eta failed to verify or load in the last hour; the predictors keep "
        "serving the previous version."
    )
    summary = "New versions of model disk-eta fail to load."
    g.expect(g.minutes, name, [r.alert({"namespace": NS, "model": "disk-eta"}, summary, description)])
    g.expect(10, name, [])  # no failure yet, only the old ones
    return [g]


def alerting_pass_stale(r: Rule) -> list[Group]:
    """A stale client, a client that never succeeded, and no client at all fire; a healthy one does not."""
    name, interval, n = "MetricsAIAlertingPassStale", r.chart["alerting"]["interval"], r.values["staleIntervals"]
    limit = n * interval
    summary = "metrics-ai predictions are not turning into alerts."
    after = (
        ": the predictor, Prometheus or a model fails (see metrics_ai_alerting_errors_total), and the entity "
        "series of what failed are removed, so their alerts cannot fire."
    )
    stale_pod, healthy_pod = CLIENT | {"pod": "metrics-ai-alerting-old"}, CLIENT | {"pod": "metrics-ai-alerting-ok"}

    def group() -> Group:
        g = Group(minutes=r.for_min + math.ceil(limit / 60) + 10)
        ticking = [max(1.0, m * 60.0 - 10) for m in range(g.minutes + 1)]  # a pass 10 s ago, every minute
        g.add("metrics_ai_alerting_last_success_timestamp_seconds", healthy_pod, ticking)
        return g

    stale = group()
    age = limit + r.for_s + 120  # stale since for: + 2 minutes
    stale.add("metrics_ai_alerting_last_success_timestamp_seconds", stale_pod, float(stale.minutes * 60 - age))
    description = (
        f"The alerting client metrics-ai-alerting-old last completed a successful pass {humanize_duration(age)} ago, "
        f"more than {n} intervals of {interval}s{after}"
    )
    stale.expect(stale.minutes, name, [r.alert(stale_pod, summary, description, reason="stale")])
    never = group()
    never.add("metrics_ai_alerting_last_success_timestamp_seconds", stale_pod, 0.0)
    description = (
        f"The alerting client metrics-ai-alerting-old has not completed a single successful pass in "
        f"{r.values['for']} since it started{after}"
    )
    never.expect(never.minutes, name, [r.alert(stale_pod, summary, description, reason="never")])
    r.early(never, name)
    absent = group()
    absent.series.clear()
    absent.add("up", {"job": "something-else"}, 1.0)
    description = (
        f"No alerting client has been scraped for {r.values['for']} "
        "(metrics_ai_alerting_last_success_timestamp_seconds is absent): is Deployment metrics-ai-alerting running, "
        "and its ServiceMonitor scraped by user workload monitoring?"
    )
    absent.expect(absent.minutes, name, [r.alert({}, summary, description, reason="absent")])
    r.early(absent, name)
    return [stale, never, absent]


def model_drift(r: Rule) -> list[Group]:
    """A feature over the PSI threshold with a full window fires; a stable feature, a drifted one
    on too few samples, and one drifted for less than the `for:` do not."""
    g, name, limit, least = r.group(), "MetricsAIModelDrift", r.values["psi"], r.values["minSamples"]
    recent = r.recent(g)
    pods = [PREDICTOR | {"pod": "predictor-0"}, PREDICTOR | {"pod": "predictor-1"}]
    for model, samples in (("anomaly-detector", least * 5), ("disk-eta", least - 1), ("io-crisis", least)):
        for pod in pods:
            g.add("metrics_ai_drift_window_samples", pod | {"model": model}, float(samples))
    psi = limit * 2.4
    for pod, drifted in zip(pods, (psi, limit / 2), strict=True):  # the larger of two replicas counts
        g.add("metrics_ai_drift_psi", pod | {"model": "anomaly-detector", "feature": "cpu_usage"}, drifted)
    for pod in pods:
        g.add("metrics_ai_drift_psi", pod | {"model": "anomaly-detector", "feature": "memory_usage"}, limit / 5)
        g.add("metrics_ai_drift_psi", pod | {"model": "disk-eta", "feature": "disk_used_pct"}, limit * 4)  # few samples
        g.add("metrics_ai_drift_psi", pod | {"model": "io-crisis", "feature": "io_wait"}, g.switch(0.01, psi, recent))
    summary = "The inputs of model anomaly-detector have drifted from its training data."
    description = (
        f"Feature cpu_usage of model anomaly-detector has had a population stability index over {limit:g} against "
        f"the served version's training reference for at least {r.values['for']} (now {psi:.2f}; over 0.25 is a "
        "major shift): the model sees data unlike what it was trained on, so its answers are less trustworthy. "
        "Check the source, then retrain."
    )
    labels = {"namespace": NS, "model": "anomaly-detector", "feature": "cpu_usage"}
    g.expect(g.minutes, name, [r.alert(labels, summary, description)])
    r.early(g, name)
    return [g]


def live_error_high(r: Rule) -> list[Group]:
    """A signal whose live MAE is past ratio x its backtest MAE fires; one within it, one with too
    few scored points, and one worse for less than the `for:` do not."""
    g, name, ratio, least = r.group(), "MetricsAILiveErrorHigh", r.values["ratio"], r.values["minScored"]
    recent = r.recent(g)
    pod = {k: v for k, v in CLIENT.items() if k != "cluster"} | {"model": "resource-forecast"}
    backtest = 0.02
    for signal, live, scored in (
        ("cpu", backtest * ratio * 2, least * 3),
        ("memory", backtest * ratio * 0.9, least * 3),  # within the margin
        ("io_wait", backtest * ratio * 5, least - 1),  # too few points scored yet
        ("net_rx", g.switch(backtest, backtest * ratio * 2, recent), least * 3),  # too recent
    ):
        g.add("metrics_ai_live_mae", pod | {"signal": signal}, live)
        g.add("metrics_ai_backtest_mae", pod | {"signal": signal}, backtest)
        g.add("metrics_ai_live_scored_total", pod | {"signal": signal}, float(scored))
    summary = "Live cpu forecasts of resource-forecast are worse than their backtest."
    description = (
        f"The live mean absolute error of resource-forecast's cpu forecasts, scored against what really happened, "
        f"has been over {ratio:g} times the backtest MAE its version was published with for at least "
        f"{r.values['for']} (now {ratio * 2:.1f} times): the data has changed under the model. Retrain, or roll "
        "back a version that made it worse."
    )
    g.expect(g.minutes, name, [r.alert(pod | {"signal": "cpu"}, summary, description)])
    r.early(g, name)
    return [g]


GENERATORS: dict[str, Generator] = {
    "MetricsAIFilesystemFillingUp": filesystem_filling_up,
    "MetricsAICrisisAhead": crisis_ahead,
    "MetricsAIForecastDeviation": forecast_deviation,
    "MetricsAINodeOutlier": node_outlier,
    "MetricsAIClusterAnomaly": cluster_anomaly,
    "MetricsAIModelNotReady": model_not_ready,
    "MetricsAIRetrainFailed": retrain_failed,
    "MetricsAIModelStale": model_stale,
    "MetricsAIReloadsFailing": reloads_failing,
    "MetricsAIAlertingPassStale": alerting_pass_stale,
    "MetricsAIModelDrift": model_drift,
    "MetricsAILiveErrorHigh": live_error_high,
}


def promtool_tests(rules: list[dict[str, Any]], values: dict[str, Any], rules_file: str) -> dict[str, Any]:
    """A promtool test file with every case of every alert among ``rules`` (rendered with ``values``)."""
    alerting = values["alerting"]
    groups: list[dict[str, Any]] = []
    for name in dict.fromkeys(rule["alert"] for rule in rules):
        (for_s,) = {seconds(rule.get("for", "0s")) for rule in rules if rule["alert"] == name}
        rule = Rule(
            values=alerting["rules"][name],
            for_s=for_s,
            runbook=f"{alerting['runbookBaseUrl']}#{name.lower()}" if alerting["runbookBaseUrl"] else None,
            extra_labels=dict(alerting["alertLabels"]),
            chart=values,
        )
        groups.extend(g.to_promtool() for g in GENERATORS[name](rule))
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": groups}
