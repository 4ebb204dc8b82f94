"""A real Prometheus for tests, and small fake Prometheus servers.

``prometheus_data`` (session scope; import it into a conftest): 16 days of
node-exporter, cAdvisor and kube-state-metrics series generated from the synthetic
generator (counters integrated from its rates), with the data-hygiene cases below,
written as OpenMetrics, loaded with ``promtool tsdb create-blocks-from openmetrics``
and served by a real ``prometheus`` on a free loopback port. Missing binaries make the
tests fail (never skip): ``scripts/install-test-deps.sh`` installs them. The data end
when the session's first test asks for it (``PromData.end``); later queries reach "now".
Fake servers for error paths are in tests/fake_prometheus.py.

Hygiene cases (node -> what happens to it), all in cluster ``prod-east``:
    worker-0  scraped by two node-exporter jobs and seen by two kube-state-metrics
              replicas (duplicate series); extra tmpfs, overlay and read-only
              filesystems; a veth interface; a pod-level cAdvisor series (container="")
    worker-1  node-exporter gaps: one of LONG_GAP_MIN and one of SHORT_GAP_MIN minutes
    worker-2  counter reset (reboot) RESET_DAYS before the end; MemAvailable NaN
              for NAN_MIN minutes NAN_DAYS before the end
    worker-3  vanishes VANISH_HOURS before the end
    worker-4  appears NEW_DAYS before the end
    worker-5  stale: its series end STALE_DAYS before the end
Exporters are scraped every SCRAPE (120) seconds.

``openshift_prometheus`` (session scope): a second real Prometheus holding one
OpenShift cluster as its in-cluster monitoring stack serves it (thanos-querier without
multi-cluster observability): OPENSHIFT_NODES nodes, OPENSHIFT_DAYS days, NO
``cluster`` label on any series, node-exporter's ``instance`` relabelled to the node
name, and the namespace/pod/service/endpoint/container labels the OpenShift
ServiceMonitors add (kube_pod_info and kube_node_status_capacity included).
"""

from __future__ import annotations

import ctypes
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.fake_prometheus import free_port
from training.sources.profiles import SyntheticProfile
from training.sources.synthetic import generate

REPO = Path(__file__).resolve().parents[1]
DAYS = 16
SCRAPE = 120
CLUSTER = "prod-east"
PROFILE = SyntheticProfile(
    name="prom-fixture", clusters=1, nodes_per_cluster=6, standalone_nodes=1, mountpoints=("/", "/var/log")
)
DUPLICATE, GAPS, RESET, VANISHED, NEW, STALE = (f"{CLUSTER}-worker-{i}" for i in range(6))
STANDALONE = "standalone-0"
LONG_GAP_DAYS, LONG_GAP_MIN = 4.0, 60
SHORT_GAP_DAYS, SHORT_GAP_MIN = 3.0, 6
RESET_DAYS = 5.0
NAN_DAYS, NAN_MIN = 2.0, 20
VANISH_HOURS, NEW_DAYS, STALE_DAYS = 6, 3, 10
GIB = 1024.0**3
CPUS = 4
OPENSHIFT_DAYS, OPENSHIFT_NODES = 3, 4
OPENSHIFT_PROFILE = SyntheticProfile(
    name="openshift-fixture", clusters=1, nodes_per_cluster=OPENSHIFT_NODES, standalone_nodes=0,
    mountpoints=("/", "/var"),
)
OPENSHIFT_NODE_NAMES = tuple(f"ip-10-0-{128 + i}-{20 + i}.ec2.internal" for i in range(OPENSHIFT_NODES))
"""Node names as an OpenShift cluster on AWS has them (the data carry no cluster label)."""


@dataclass(frozen=True)
class PromData:
    """A running Prometheus loaded with the fixture's data."""

    url: str
    end: pd.Timestamp
    """Last generated sample (the window end the truth frame ends at)."""
    truth: pd.DataFrame = field(repr=False)
    """The synthetic canonical frame the exporter series were generated from."""


@dataclass
class _Series:
    labels: dict[str, str]
    index: np.ndarray  # positions into the time grid
    values: np.ndarray


def _counter(rate: np.ndarray, alive: np.ndarray, reset_at: int | None = None, start: float = 0.0) -> np.ndarray:
    """A counter integrated from a per-second rate from the first alive sample, optionally reset."""
    first = int(np.argmax(alive))
    inc = np.where(np.arange(len(rate)) > first, rate * SCRAPE, 0.0)
    total = start + np.cumsum(inc)
    if reset_at is not None:
        total[reset_at:] -= total[reset_at] - rate[reset_at] * SCRAPE
    return total


def _openshift_labels(job: str, node: str, i: int) -> dict[str, str]:
    """The target labels OpenShift's ServiceMonitors put on each job's series (no ``cluster``)."""
    if job == "node-exporter":
        return {"instance": node, "job": job, "namespace": "openshift-monitoring", "pod": f"node-exporter-{i:05x}",
                "service": "node-exporter", "endpoint": "https", "container": "kube-rbac-proxy"}
    if job == "kubelet":
        return {"instance": f"10.0.{128 + i}.{20 + i}:10250", "job": job, "metrics_path": "/metrics/cadvisor",
                "node": node, "service": "kubelet", "endpoint": "https-metrics"}
    return {"instance": "10.129.2.7:8443", "job": job, "service": "kube-state-metrics", "endpoint": "https-main",
            "container": "kube-rbac-proxy-main"}


def _exporter_series(
    truth: pd.DataFrame, grid: pd.DatetimeIndex, openshift: bool = False
) -> dict[str, tuple[str, list[_Series]]]:
    """metric name -> (type, series) for every node of the fixture (``openshift``: that variant's labels)."""
    n = len(grid)
    minutes_before_end = (grid[-1] - grid).total_seconds().to_numpy() / 60.0
    families: dict[str, tuple[str, list[_Series]]] = {}

    def add(name: str, kind: str, labels: dict[str, str], mask: np.ndarray, values: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        families.setdefault(name, (kind, []))[1].append(_Series(labels, idx, np.asarray(values)[idx]))

    def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> np.ndarray:
        return minutes_before_end <= days * 1440 + hours * 60 + minutes

    wide = truth.pivot_table(index=["node", "timestamp"], columns="signal", values="value", observed=True)
    disks = truth[truth["signal"] == "disk_used_pct"]
    nodes = sorted(truth["node"].astype(str).unique())
    for i, node in enumerate(nodes):
        w = wide.loc[node].reindex(grid)
        cluster = "" if node == STANDALONE or openshift else CLUSTER
        base = {"cluster": cluster} if cluster else {}
        alive = np.ones(n, dtype=bool)
        if node == VANISHED:
            alive = ~ago(hours=VANISH_HOURS)
        elif node == NEW:
            alive = ago(days=NEW_DAYS)
        elif node == STALE:
            alive = ~ago(days=STALE_DAYS)
        scraped = alive.copy()
        if node == GAPS:
            for days, length in ((LONG_GAP_DAYS, LONG_GAP_MIN), (SHORT_GAP_DAYS, SHORT_GAP_MIN)):
                scraped &= ~(ago(days=days) & ~ago(days=days, minutes=-length))
        reset = int(np.argmax(ago(days=RESET_DAYS))) if node == RESET else None
        jobs = ["node-exporter", "node-exporter-federated"] if node == DUPLICATE else ["node-exporter"]
        for job in jobs:
            ne = _openshift_labels(job, node, i) if openshift else {**base, "instance": f"{node}:9100", "job": job}
            for cpu, factor in (("0", 1.1), ("1", 0.9)):
                for mode, signal_name in (("user", "cpu"), ("iowait", "io_wait")):
                    rate = np.clip(w[signal_name].to_numpy() * factor, 0, 1)
                    add("node_cpu_seconds_total", "counter", {**ne, "cpu": cpu, "mode": mode}, scraped,
                        _counter(rate, alive, reset, start=1e5))
            available = (1 - w["memory"].to_numpy()) * 16 * GIB
            if node == RESET:
                available = np.where(ago(days=NAN_DAYS) & ~ago(days=NAN_DAYS, minutes=-NAN_MIN), np.nan, available)
            add("node_memory_MemTotal_bytes", "gauge", ne, scraped, np.full(n, 16 * GIB))
            add("node_memory_MemAvailable_bytes", "gauge", ne, scraped, available)
            devices = {"eth0": (w["net_rx"].to_numpy(), w["net_tx"].to_numpy()), "lo": (np.full(n, 2e4),) * 2}
            if node == DUPLICATE:
                devices["veth1a2b3c"] = (np.full(n, 5e5),) * 2
            for device, (rx, tx) in devices.items():
                add("node_network_receive_bytes_total", "counter", {**ne, "device": device}, scraped,
                    _counter(rx, alive, reset, start=1e9))
                add("node_network_transmit_bytes_total", "counter", {**ne, "device": device}, scraped,
                    _counter(tx, alive, reset, start=1e9))
            filesystems = []
            for k, (mount, group) in enumerate(disks[disks["node"] == node].groupby("mountpoint", observed=True)):
                pct = group.set_index("timestamp")["value"].reindex(grid).to_numpy()
                filesystems.append((f"/dev/sd{chr(ord('a') + k)}1", "xfs", str(mount), 100 * GIB, pct, 0))
            if node == DUPLICATE:
                filesystems += [
                    ("tmpfs", "tmpfs", "/run", GIB, np.full(n, 40.0), 0),
                    ("overlay", "overlay", "/var/lib/containers/storage/overlay/1f2e/merged", 100 * GIB,
                     np.full(n, 55.0), 0),
                    ("/dev/sr0", "ext4", "/mnt/iso", GIB, np.full(n, 100.0), 1),
                ]
            for device, fstype, mount, size, pct, readonly in filesystems:
                fs = {**ne, "device": device, "fstype": fstype, "mountpoint": mount}
                add("node_filesystem_size_bytes", "gauge", fs, scraped, np.full(n, size))
                add("node_filesystem_avail_bytes", "gauge", fs, scraped, (1 - pct / 100) * size)
                add("node_filesystem_readonly", "gauge", fs, scraped, np.full(n, float(readonly)))
        if node == STANDALONE:
            continue
        kubelet = {**base, "instance": f"10.0.0.{i + 10}:10250", "job": "kubelet",
                   "metrics_path": "/metrics/cadvisor", "node": node, "namespace": "apps"}
        if openshift:
            kubelet = {**_openshift_labels("kubelet", node, i), "namespace": "apps"}
        shares = (0.6, 0.4) if node == DUPLICATE else (1.0,)
        pod_cpu, pod_mem = w["pod_cpu"].to_numpy() * CPUS, w["pod_mem"].to_numpy() * 16 * GIB
        pods = [f"app-{i}-{p}" for p in range(len(shares))]
        for pod, share in zip(pods, shares, strict=True):
            labels = {**kubelet, "pod": pod, "container": "app"}
            add("container_cpu_usage_seconds_total", "counter", labels, alive,
                _counter(pod_cpu * share, alive, reset, start=10.0))
            add("container_memory_working_set_bytes", "gauge", labels, alive, pod_mem * share)
        if node == DUPLICATE:  # the pod-level cgroup (container="") repeats the sum: must not count twice
            total = {**kubelet, "pod": pods[0], "container": ""}
            add("container_cpu_usage_seconds_total", "counter", total, alive, _counter(pod_cpu, alive, reset))
            add("container_memory_working_set_bytes", "gauge", total, alive, pod_mem)
        restarts = np.floor(_counter(w["pod_restarts"].to_numpy() / 300.0, alive))
        replicas = ("10.128.0.5:8443", "10.128.0.6:8443") if node == DUPLICATE else ("10.128.0.5:8443",)
        for replica in replicas:
            ksm = {**base, "instance": replica, "job": "kube-state-metrics"}
            node_ns = {}
            if openshift:  # honorLabels: the pod's namespace wins; node series get the target's
                ksm, node_ns = _openshift_labels("kube-state-metrics", node, i), {"namespace": "openshift-monitoring"}
            add("kube_node_status_capacity", "gauge",
                {**ksm, **node_ns, "node": node, "resource": "cpu", "unit": "core"}, alive, np.full(n, float(CPUS)))
            add("kube_node_status_capacity", "gauge",
                {**ksm, **node_ns, "node": node, "resource": "memory", "unit": "byte"}, alive, np.full(n, 16 * GIB))
            for pod in pods:
                info = {**ksm, "namespace": "apps", "pod": pod, "node": node}
                if openshift:
                    info |= {"host_ip": f"10.0.{128 + i}.{20 + i}", "pod_ip": f"10.128.{i}.9", "uid": f"{i:08x}-pod",
                             "created_by_kind": "ReplicaSet", "created_by_name": f"app-{i}", "host_network": "false",
                             "priority_class": ""}
                add("kube_pod_info", "gauge", info, alive, np.ones(n))
            add("kube_pod_container_status_restarts_total", "counter",
                {**ksm, "namespace": "apps", "pod": pods[0], "container": "app"}, alive, restarts)
    return families


def write_openmetrics(path: Path, truth: pd.DataFrame, grid: pd.DatetimeIndex, openshift: bool = False) -> int:
    """Write the exporters' series as OpenMetrics text; returns the number of samples."""
    stamps = [str(int(t)) for t in grid.asi8 // 10**9]
    samples = 0
    with path.open("w", encoding="utf-8") as out:
        for name, (kind, series) in sorted(_exporter_series(truth, grid, openshift).items()):
            family = name.removesuffix("_total") if kind == "counter" else name
            out.write(f"# TYPE {family} {kind}\n")
            for s in series:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                prefix = f"{name}{{{labels}}} "
                values = ["NaN" if v != v else f"{v:.15g}" for v in s.values.tolist()]
                lines = [f"{prefix}{v} {stamps[j]}\n" for v, j in zip(values, s.index.tolist(), strict=True)]
                out.write("".join(lines))
                samples += len(values)
        out.write("# EOF\n")
    return samples


def prometheus_binaries() -> tuple[str, str]:
    """Paths of prometheus and promtool; installs them once if missing, else fails the test."""
    found = shutil.which("prometheus"), shutil.which("promtool")
    if all(found):
        return found  # type: ignore[return-value]
    script = REPO / "scripts" / "install-test-deps.sh"
    run = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600, check=False)
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        pytest.fail(
            "prometheus and promtool are required by the Prometheus tests and could not be installed "
            f"({script} exited {run.returncode}):\n{(run.stdout + run.stderr)[-2000:]}\n"
            "Install them (Debian/Ubuntu: apt-get install prometheus) and run the tests again.",
            pytrace=False,
        )
    return found  # type: ignore[return-value]


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so no Prometheus outlives it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def rules_config(rule_files: list[Path], alertmanagers: list[str], scrape_targets: dict[str, list[str]] | None = None,
                 interval: str = "1s") -> str:
    """Prometheus config that evaluates ``rule_files`` and sends alerts to ``alertmanagers`` (host:port).

    ``scrape_targets`` maps a job name to host:port targets scraped every ``interval`` (rules
    are evaluated as often). Pass the result to :func:`start_prometheus` as ``config_text``.
    """
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(p) for p in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": alertmanagers}]}]},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}
                           for job, targets in (scrape_targets or {}).items()],
    }
    return json.dumps(config)  # JSON is YAML


def start_prometheus(prometheus: str, datadir: Path, workdir: Path,
                     config_text: str | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start ``prometheus`` on a free loopback port over ``datadir``; returns (process, url, log).

    ``config_text`` replaces the default configuration (no scrapes, hourly evaluation).
    """
    config = workdir / "prometheus.yml"
    default = "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n"
    config.write_text(config_text or default, encoding="utf-8")
    port = free_port()
    logfile = workdir / "prometheus.log"
    cmd = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={datadir}",
           f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=90d"]
    with logfile.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509
    return proc, f"http://127.0.0.1:{port}", logfile


def wait_ready(proc: subprocess.Popen[bytes], url: str, logfile: Path, timeout: float = 60) -> None:
    """Block until Prometheus answers /-/ready, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited {proc.returncode}:\n{logfile.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"prometheus not ready after {timeout}s:\n{logfile.read_text()[-3000:]}", pytrace=False)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it does not stop; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_RUNNING = pytest.StashKey[PromData]()
_RUNNING_OPENSHIFT = pytest.StashKey[PromData]()


@pytest.fixture(scope="session")
def prometheus_data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PromData:
    """A real Prometheus serving 16 days of realistic exporter data (see the module docstring).

    One per test session even when several conftests or modules import this fixture
    (kept in the config stash); stopped when the session ends.
    """
    stash = request.config.stash
    if _RUNNING not in stash:
        stash[_RUNNING] = _start(request.config, tmp_path_factory)
    return stash[_RUNNING]


@pytest.fixture(scope="session")
def openshift_prometheus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PromData:
    """A real Prometheus holding one OpenShift cluster without any ``cluster`` label (module docstring)."""
    stash = request.config.stash
    if _RUNNING_OPENSHIFT not in stash:
        stash[_RUNNING_OPENSHIFT] = _start(request.config, tmp_path_factory, openshift=True)
    return stash[_RUNNING_OPENSHIFT]


def openshift_truth(end: pd.Timestamp) -> pd.DataFrame:
    """The OpenShift variant's generator frame: one cluster, nodes named as on AWS, no cluster name."""
    truth = generate(OPENSHIFT_PROFILE, OPENSHIFT_DAYS, SCRAPE, anomaly_rate=0.0, seed=11, end=end)
    names = dict(zip(sorted(truth["node"].astype(str).unique()), OPENSHIFT_NODE_NAMES, strict=True))
    return truth.assign(node=truth["node"].astype(str).map(names), cluster="")


def backfill_and_serve(workdir: Path, truth: pd.DataFrame, grid: pd.DatetimeIndex,
                       openshift: bool = False, timeout: float = 300) -> tuple[subprocess.Popen[bytes], str, int]:
    """Write ``truth``'s exporter series over ``grid``, backfill them with promtool and serve
    them with a real Prometheus (ready when this returns); returns (process, url, samples).

    ``openshift``: the series carry OpenShift's in-cluster labels and no ``cluster``.
    ``timeout``: seconds for the backfill, and again for Prometheus to become ready.
    The caller stops the process (:func:`stop_process`). Also used by bench/alerting_pass.py
    and scripts/alerting_demo.py.
    """
    prometheus, promtool = prometheus_binaries()
    text, datadir = workdir / "exporters.om.txt", workdir / "tsdb"
    samples = write_openmetrics(text, truth, grid, openshift)
    load = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=504h", "-q",
         str(text), str(datadir)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if load.returncode:
        pytest.fail(f"promtool could not load the fixture:\n{load.stdout}{load.stderr}", pytrace=False)
    text.unlink()
    proc, url, logfile = start_prometheus(prometheus, datadir, workdir)
    try:
        wait_ready(proc, url, logfile, timeout=timeout)
    except BaseException:
        stop_process(proc)
        raise
    return proc, url, samples


def _start(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory, openshift: bool = False) -> PromData:
    workdir = tmp_path_factory.mktemp("prometheus-openshift" if openshift else "prometheus")
    end = pd.Timestamp.now(tz="UTC").floor(f"{SCRAPE}s")
    days = OPENSHIFT_DAYS if openshift else DAYS
    truth = openshift_truth(end) if openshift else generate(PROFILE, DAYS, SCRAPE, anomaly_rate=0.0, seed=7, end=end)
    grid = pd.date_range(end=end, periods=int(days * 86400 // SCRAPE), freq=f"{SCRAPE}s")
    proc, url, _ = backfill_and_serve(workdir, truth, grid, openshift)
    config.add_cleanup(lambda: stop_process(proc))
    return PromData(url=url, end=end, truth=truth)
