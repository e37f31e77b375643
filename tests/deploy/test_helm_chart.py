"""The Helm chart (deploy/helm/dqgate): lint, render, strict decoding, and what it renders.

Rendered twice: with the default values and with ``deploy/helm/tests/values-all.yaml``
(every option on). Every object decodes strictly with its Go API types (kubecheck), the
PrometheusRule and the dashboard equal deploy/prometheus/rules and deploy/grafana, and
the gate.yaml and suites land where the Deployment mounts them and pass dqgate's own
checks.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from deploy.tools import ROOT, dqgate, tool
from dqgate.config.schema import _ROUTE_KEYS

CHART = ROOT / "deploy" / "helm" / "dqgate"
ALL_VALUES = ROOT / "deploy" / "helm" / "tests" / "values-all.yaml"
INCIDENT_SUITE = ROOT / "expectations" / "incident_reports.json"
RULES_DIR = ROOT / "deploy" / "prometheus" / "rules"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "dqgate.json"
ALL_SETS = ("--set-file", f"suites.incident_reports\\.json={INCIDENT_SUITE}")
CONFIG_MOUNT = PurePosixPath("/etc/dqgate")

Docs = list[dict[str, Any]]


def helm(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run helm (output captured; a symlink notice on stderr is normal)."""
    command = [tool("helm"), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def render(*args: str | Path) -> str:
    """``helm template`` of the chart with ``args``; the stream of rendered YAML."""
    result = helm("template", "gate", CHART, "--namespace", "data", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refusal(*args: str | Path) -> str:
    """``helm template`` that must fail; returns its error output."""
    result = helm("template", "gate", CHART, *args)
    assert result.returncode != 0, "the chart rendered values it should refuse"
    return result.stderr


def documents(text: str) -> Docs:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def one(docs: Docs, kind: str, name_suffix: str = "") -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"expected one {kind}*{name_suffix}, found {len(found)}"
    return found[0]


def gate_yaml(docs: Docs) -> dict[str, Any]:
    """The gate.yaml the chart renders, parsed."""
    config_map = one(docs, "ConfigMap", "-dqgate")
    parsed: dict[str, Any] = yaml.safe_load(config_map["data"]["gate.yaml"])
    return parsed


def container(docs: Docs) -> dict[str, Any]:
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["gate"]
    gate: dict[str, Any] = spec["containers"][0]
    return gate


@pytest.fixture(scope="module")
def default_text() -> str:
    return render()


@pytest.fixture(scope="module")
def all_text() -> str:
    return render("-f", ALL_VALUES, *ALL_SETS)


@pytest.fixture(scope="module")
def default_docs(default_text: str) -> Docs:
    return documents(default_text)


@pytest.fixture(scope="module")
def all_docs(all_text: str) -> Docs:
    return documents(all_text)


def kubecheck(text: str) -> tuple[int, list[dict[str, str]]]:
    """Decode ``text`` strictly with kubecheck: (exit code, one result per object)."""
    result = subprocess.run(
        [tool("kubecheck")], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


# --- lint, render, decode ---------------------------------------------------------------


@pytest.mark.parametrize("values", ["default", "all options"])
def test_helm_lint_strict_passes(values: str) -> None:
    """`helm lint --strict` passes with the default values and with every option on."""
    extra = () if values == "default" else ("-f", ALL_VALUES, *ALL_SETS)
    result = helm("lint", "--strict", CHART, *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_default_values_render_the_core_objects(default_docs: Docs) -> None:
    """Defaults: ServiceAccount, ConfigMap, Service, Deployment, PDB and nothing optional."""
    kinds = sorted(d["kind"] for d in default_docs)
    expected = ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]
    assert kinds == expected


def test_all_options_render_every_kind(all_docs: Docs) -> None:
    """Every option on adds the monitor, rules, dashboard, policy and KEDA objects."""
    kinds = sorted(d["kind"] for d in all_docs)
    assert kinds == sorted(
        [
            "ConfigMap",
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PrometheusRule",
            "ScaledObject",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
            "TriggerAuthentication",
        ]
    )


@pytest.mark.parametrize("values", ["default", "all options", "pod monitor"])
def test_every_rendered_object_decodes_strictly(values: str) -> None:
    """kubecheck decodes every object with its Go types in strict mode, none left out."""
    extra: tuple[str | Path, ...] = {
        "default": (),
        "all options": ("-f", ALL_VALUES, *ALL_SETS),
        "pod monitor": (
            "-f",
            ALL_VALUES,
            *ALL_SETS,
            "--set",
            "metrics.serviceMonitor.enabled=false,metrics.podMonitor.enabled=true",
        ),
    }[values]
    text = render(*extra)
    code, results = kubecheck(text)
    assert code == 0, [r for r in results if r.get("error")]
    assert [(r["kind"], r["name"]) for r in results] == [
        (d["kind"], d["metadata"]["name"]) for d in documents(text)
    ]
    if values == "pod monitor":
        assert "PodMonitor" in {r["kind"] for r in results}


def test_strict_decoding_catches_a_misspelt_field(all_docs: Docs) -> None:
    """A misspelt field in a core, a KEDA and an operator object is each an error."""
    deployment = json.loads(json.dumps(one(all_docs, "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    scaled = json.loads(json.dumps(one(all_docs, "ScaledObject")))
    scaled["spec"]["maxReplicas"] = 3
    monitor = json.loads(json.dumps(one(all_docs, "ServiceMonitor")))
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    text = yaml.safe_dump_all([deployment, scaled, monitor])
    code, results = kubecheck(text)
    assert code == 1
    errors = [r.get("error", "") for r in results]
    assert len(errors) == 3
    assert "livenesProbe" in errors[0]
    assert "maxReplicas" in errors[1]
    assert "intervall" in errors[2]


def test_renders_on_the_oldest_supported_kubernetes() -> None:
    """kubeVersion >=1.27 (PDB unhealthyPodEvictionPolicy): 1.27 renders, 1.26 is refused."""
    assert "kind: Deployment" in render("--kube-version", "1.27.0")
    assert "kubeVersion" in refusal("--kube-version", "1.26.0")


def test_chart_app_version_is_the_package_version() -> None:
    """Chart.yaml's appVersion (the default image tag) is pyproject.toml's version."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == project["project"]["version"]


def test_schema_route_keys_are_dqgate_route_keys() -> None:
    """values.schema.json allows exactly the route keys dqgate's configuration knows."""
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    route = schema["properties"]["routes"]["items"]
    assert route["additionalProperties"] is False
    assert set(route["properties"]) == set(_ROUTE_KEYS)


# --- one source of truth: rules and dashboard -------------------------------------------


def test_prometheus_rule_groups_equal_the_rule_files(all_docs: Docs) -> None:
    """The PrometheusRule's groups are exactly those of deploy/prometheus/rules/*.yml."""
    files = sorted(RULES_DIR.glob("*.yml"))
    assert files
    expected = [
        group
        for file in files
        for group in yaml.safe_load(file.read_text(encoding="utf-8"))["groups"]
    ]
    assert one(all_docs, "PrometheusRule")["spec"]["groups"] == expected


def test_prometheus_rule_groups_pass_promtool(all_docs: Docs, tmp_path: Path) -> None:
    """`promtool check rules` accepts the groups as the chart renders them."""
    rules = tmp_path / "rendered-rules.yml"
    spec = one(all_docs, "PrometheusRule")["spec"]
    rules.write_text(yaml.safe_dump({"groups": spec["groups"]}), encoding="utf-8")
    result = subprocess.run(
        [tool("promtool"), "check", "rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_dashboard_config_map_holds_the_dashboard_file(all_docs: Docs) -> None:
    """The dashboard ConfigMap carries deploy/grafana's JSON and the sidecar's label."""
    config_map = one(all_docs, "ConfigMap", "-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    assert list(config_map["data"]) == [DASHBOARD.name]
    rendered = json.loads(config_map["data"][DASHBOARD.name])
    assert rendered == json.loads(DASHBOARD.read_text(encoding="utf-8"))


def test_monitor_job_label_is_what_the_alerts_select(all_docs: Docs) -> None:
    """The ServiceMonitor relabels job to the name GateDown selects (up{job="dqgate"})."""
    endpoint = one(all_docs, "ServiceMonitor")["spec"]["endpoints"][0]
    job = [r for r in endpoint["relabelings"] if r["targetLabel"] == "job"]
    assert len(job) == 1
    alerts = (RULES_DIR / "dqgate-alerts.yml").read_text(encoding="utf-8")
    assert f'up{{job="{job[0]["replacement"]}"}}' in alerts
    assert endpoint["scheme"] == "https"
    assert endpoint["port"] == "metrics"


# --- the gate's configuration, as mounted -----------------------------------------------


def materialize(docs: Docs, root: Path) -> Path:
    """Lay out /etc/dqgate as the Deployment's projected volume would; returns gate.yaml.

    ConfigMap items are written from the rendered ConfigMap; Secret items (not part of
    the chart) get placeholder contents. Only what the volume declares is written.
    """
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in container(docs)["volumeMounts"]}
    volume = next(v for v in spec["volumes"] if mounts.get(v["name"]) == str(CONFIG_MOUNT))
    data = one(docs, "ConfigMap", "-dqgate")["data"]
    for source in volume["projected"]["sources"]:
        if "configMap" in source:
            for item in source["configMap"]["items"]:
                target = root / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(data[item["key"]], encoding="utf-8")
        else:
            for item in source["secret"]["items"]:
                target = root / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"placeholder of {source['secret']['name']}/{item['key']}\n")
    args = container(docs)["args"]
    config = PurePosixPath(args[args.index("--config") + 1])
    assert config.is_relative_to(CONFIG_MOUNT)
    return root / config.relative_to(CONFIG_MOUNT)


@pytest.mark.parametrize("values", ["default", "all options"])
def test_rendered_gate_config_passes_dqgate_config_check(
    values: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`dqgate config check` loads the mounted gate.yaml and compiles its suites."""
    docs: Docs = request.getfixturevalue("default_docs" if values == "default" else "all_docs")
    config = materialize(docs, tmp_path)
    result = dqgate("config", "check", "--config", config, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    rendered = gate_yaml(docs)
    assert [r["route"] for r in summary["routes"]] == [r["name"] for r in rendered["routes"]]
    assert summary["group_id"] == rendered["group_id"]
    assert "placeholder" not in result.stdout


@pytest.mark.parametrize("values", ["default", "all options"])
def test_rendered_suites_pass_suites_check(
    values: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`dqgate suites check` accepts every suite the chart mounts (exit 0)."""
    docs: Docs = request.getfixturevalue("default_docs" if values == "default" else "all_docs")
    config = materialize(docs, tmp_path)
    suites = sorted((config.parent / "suites").glob("*.json"))
    assert suites
    result = dqgate("suites", "check", *suites)
    assert result.returncode == 0, result.stdout + result.stderr


def test_suites_are_mounted_beside_gate_yaml(all_docs: Docs) -> None:
    """Each suite of the values (a null one dropped) is mounted at suites/<name>."""
    volume = one(all_docs, "Deployment")["spec"]["template"]["spec"]["volumes"][0]
    (config_map,) = [s["configMap"] for s in volume["projected"]["sources"] if "configMap" in s]
    paths = {item["key"]: item["path"] for item in config_map["items"]}
    suites = {"incident_reports.json", "minimal.json"}
    assert paths == {"gate.yaml": "gate.yaml", **{name: f"suites/{name}" for name in suites}}
    assert {route["suite"] for route in gate_yaml(all_docs)["routes"]} == {
        f"suites/{name}" for name in suites
    }


def test_secrets_are_files_named_by_the_file_options(all_docs: Docs) -> None:
    """Every secret is a mounted file that a *_file option names; no value is rendered."""
    rendered = gate_yaml(all_docs)
    kafka, http = rendered["kafka"], rendered["http"]
    assert kafka["sasl_password_file"] == "secrets/kafka-sasl-password"
    assert kafka["ssl_key_password_file"] == "secrets/kafka-ssl-key-password"
    assert {kafka["ssl_cafile"], kafka["ssl_certfile"], kafka["ssl_keyfile"]} == {
        "secrets/kafka-ca.crt",
        "secrets/kafka-client.crt",
        "secrets/kafka-client.key",
    }
    assert http == {
        "tls_certfile": "secrets/http-tls.crt",
        "tls_keyfile": "secrets/http-tls.key",
        "control_enabled": True,
        "control_token_file": "secrets/http-control-token",
    }
    assert rendered["replay"] == {"key_file": "secrets/replay-key"}
    assert "sasl_password" not in kafka
    assert not [d for d in all_docs if d["kind"] == "Secret"]
    volume = one(all_docs, "Deployment")["spec"]["template"]["spec"]["volumes"][0]
    secret_paths = {
        item["path"]
        for source in volume["projected"]["sources"]
        if "secret" in source
        for item in source["secret"]["items"]
    }
    sections = (kafka, http, rendered["replay"])
    named = {v for section in sections for k, v in section.items() if k.endswith("file")}
    assert len(named) == 9  # five Kafka files, the HTTPS pair, the control token, replay
    assert secret_paths == named


# --- the Deployment ---------------------------------------------------------------------


@pytest.mark.parametrize("values", ["default", "all options"])
def test_pod_is_locked_down(values: str, request: pytest.FixtureRequest) -> None:
    """Non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token."""
    docs: Docs = request.getfixturevalue("default_docs" if values == "default" else "all_docs")
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    gate = container(docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = gate["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"]: m for m in gate["volumeMounts"]}
    assert mounts[str(CONFIG_MOUNT)]["readOnly"] is True
    tmp = next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"]["name"])
    assert "emptyDir" in tmp


@pytest.mark.parametrize("values", ["default", "all options"])
def test_probes_and_port_match_the_metrics_address(
    values: str, request: pytest.FixtureRequest
) -> None:
    """Liveness /healthz, readiness /readyz on the port gate.yaml's metrics_address binds."""
    docs: Docs = request.getfixturevalue("default_docs" if values == "default" else "all_docs")
    gate = container(docs)
    port = int(gate_yaml(docs)["metrics_address"].rpartition(":")[2])
    assert gate["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]
    assert gate["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gate["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert gate["readinessProbe"]["httpGet"]["path"] == "/readyz"
    scheme = "HTTPS" if "http" in gate_yaml(docs) else "HTTP"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert gate[probe]["httpGet"]["port"] == "metrics"
        assert gate[probe]["httpGet"]["scheme"] == scheme
    service = one(docs, "Service")["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in service] == [(port, "metrics")]


@pytest.mark.parametrize("values", ["default", "all options"])
def test_grace_period_exceeds_the_graceful_stop(
    values: str, request: pytest.FixtureRequest
) -> None:
    """terminationGracePeriodSeconds is above the rendered (or default) shutdown_timeout_s."""
    docs: Docs = request.getfixturevalue("default_docs" if values == "default" else "all_docs")
    grace = one(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > gate_yaml(docs)["shutdown_timeout_s"]


def test_rollout_never_surges_past_the_workers(default_docs: Docs) -> None:
    """maxSurge 0: a surge worker beyond the partitions would never become ready."""
    strategy = one(default_docs, "Deployment")["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxSurge"] == 0
    pdb = one(default_docs, "PodDisruptionBudget")["spec"]
    assert pdb["maxUnavailable"] == 1


def test_config_change_rolls_the_workers(tmp_path: Path) -> None:
    """A different suite changes the pod template's checksum annotation."""

    def checksum(*args: str | Path) -> str:
        deployment = one(documents(render(*args)), "Deployment")
        value: str = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        return value

    changed = tmp_path / "example.json"
    changed.write_text('{"name": "example", "expectations": []}', encoding="utf-8")
    assert checksum() == checksum()
    assert checksum() != checksum("--set-file", f"suites.example\\.json={changed}")


# --- autoscaling, monitoring, network ---------------------------------------------------


def test_keda_scales_on_the_gate_group_capped_at_the_partitions(all_docs: Docs) -> None:
    """ScaledObject: kafka trigger on group_id, max replicas = min(maxReplicas, partitions)."""
    spec = one(all_docs, "ScaledObject")["spec"]
    values = yaml.safe_load(ALL_VALUES.read_text(encoding="utf-8"))
    keda = values["autoscaling"]["keda"]
    assert spec["maxReplicaCount"] == min(keda["maxReplicas"], values["sourcePartitions"])
    assert spec["maxReplicaCount"] < keda["maxReplicas"]
    assert spec["minReplicaCount"] == keda["minReplicas"]
    (trigger,) = spec["triggers"]
    rendered = gate_yaml(all_docs)
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == rendered["group_id"]
    assert (
        trigger["metadata"]["bootstrapServers"].split(",") == rendered["kafka"]["bootstrap_servers"]
    )
    assert trigger["metadata"]["allowIdleConsumers"] == "false"
    assert trigger["metadata"]["sasl"] == "scram_sha512"
    assert trigger["metadata"]["tls"] == "enable"
    assert "topic" not in trigger["metadata"]  # two routes: every topic of the group
    auth = one(all_docs, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    deployment = one(all_docs, "Deployment")
    assert "replicas" not in deployment["spec"]  # KEDA owns the replica count
    assert spec["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


def test_keda_topic_defaults_to_the_only_route() -> None:
    """With one route the trigger watches its source topic."""
    docs = documents(render("--set", "autoscaling.keda.enabled=true,sourcePartitions=6"))
    (trigger,) = one(docs, "ScaledObject")["spec"]["triggers"]
    assert trigger["metadata"]["topic"] == gate_yaml(docs)["routes"][0]["source"]


def test_network_policy_admits_scrapes_and_reaches_brokers(all_docs: Docs) -> None:
    """Ingress only to the metrics port from metricsFrom; egress only to DNS and brokers."""
    spec = one(all_docs, "NetworkPolicy")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = spec["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"][0]["namespaceSelector"]
    ports = sorted(p["port"] for rule in spec["egress"] for p in rule["ports"])
    assert ports == [53, 53, 9093]


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "terminationGracePeriodSeconds=60"), "must exceed gate.shutdownTimeoutSeconds"),
        (("--set", "replicaCount=4,sourcePartitions=3"), "exceeds sourcePartitions"),
        (("--set", "autoscaling.keda.enabled=true"), "needs sourcePartitions"),
        (("--set", "kafka.securityProtocol=SASL_SSL"), "needs kafka.sasl.username"),
        (("--set", "kafka.tls.caSecret.name=ca"), "kafka.tls secrets are set"),
        (
            (
                "--set",
                "routes[0].source=a,routes[0].suite=b.json,routes[0].clean=c,routes[0].quarantine=d",
            ),
            "is not a key of suites",
        ),
        (("--set", "gate.config.group_id=other"), "the chart writes this key"),
        (("--set", "gate.config.replay.key_file=/k"), "the chart writes this key"),
        (("--set", "replicaCunt=2"), "additional properties 'replicaCunt' not allowed"),
        (("--set", "control.enabled=true,control.tokenSecret.name=t"), "needs control.tokenSecret"),
        (("--set", "kafka.securityProtocol=TLS"), "securityProtocol"),
        (
            ("--set", "metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true"),
            "both enabled",
        ),
    ],
)
def test_chart_refuses_unsafe_or_inconsistent_values(args: tuple[str, ...], message: str) -> None:
    """Values that would lose commits, idle workers or break start-up stop the render."""
    assert message in refusal(*args)


def test_existing_config_map_is_mounted_whole() -> None:
    """existingConfigMap: no ConfigMap rendered, the named one mounted without items."""
    docs = documents(render("--set", "existingConfigMap=my-gate"))
    assert [d for d in docs if d["kind"] == "ConfigMap"] == []
    volume = one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"][0]
    (source,) = volume["projected"]["sources"]
    assert source == {"configMap": {"name": "my-gate"}}
