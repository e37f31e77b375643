"""gate.yaml + DQGATE_* environment: defaults, overrides, secrets and start-up checks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.cli.run import config_from_args
from dqgate.config import (
    ENV_VARS,
    CircuitBreakerConfig,
    GateConfig,
    HttpAddress,
    SaslMechanism,
    SecurityProtocol,
    load_config,
    parse_http_address,
)
from dqgate.errors import ConfigError

SUITE_JSON = (
    '{"name": "s", "expectations": '
    '[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}]}'
)
EMPTY_SUITE_JSON = '{"name": "s", "expectations": []}'


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A one-expectation suite file next to the config."""
    path = tmp_path / "suite.json"
    path.write_text(SUITE_JSON, encoding="utf-8")
    return path


def write(tmp_path: Path, data: dict[str, Any], name: str = "gate.yaml") -> Path:
    """Write ``data`` as YAML and return the file."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def minimal(**extra: Any) -> dict[str, Any]:
    """A valid one-route configuration plus ``extra`` top-level keys."""
    return {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "routes": [{"source": "in", "suite": "suite.json", "clean": "ok", "quarantine": "bad"}],
        **extra,
    }


def load(tmp_path: Path, data: dict[str, Any], env: dict[str, str] | None = None) -> GateConfig:
    """Load ``data`` from a file with only ``env`` as the environment."""
    return load_config(write(tmp_path, data), environ=env or {})


def test_minimal_file_gets_documented_defaults(tmp_path: Path, suite: Path) -> None:
    """A minimal file gives group dqgate, batch 500, metrics on 127.0.0.1:9464."""
    config = load(tmp_path, minimal())
    assert config.group_id == "dqgate"
    assert config.batch_size == 500
    assert config.metrics_address == HttpAddress(host="127.0.0.1", port=9464)
    assert config.kafka.bootstrap_servers == ("127.0.0.1:9092",)
    assert config.kafka.security_protocol is SecurityProtocol.PLAINTEXT
    (route,) = config.routes
    assert (route.name, route.source, route.clean, route.quarantine) == ("in", "in", "ok", "bad")
    assert route.circuit_breaker is None and route.validate


def test_relative_suite_path_is_relative_to_the_file(tmp_path: Path, suite: Path) -> None:
    """``suite: suite.json`` resolves next to gate.yaml, not the working directory."""
    assert load(tmp_path, minimal()).routes[0].suite == str(suite)


def test_unknown_top_level_key_names_key_and_file(tmp_path: Path, suite: Path) -> None:
    """An unknown key is an error naming the key and the file."""
    path = write(tmp_path, minimal(batchsize=10))
    with pytest.raises(ConfigError, match=r"gate\.yaml: unknown key 'batchsize'"):
        load_config(path, environ={})


def test_unknown_nested_key_is_rejected(tmp_path: Path, suite: Path) -> None:
    """A typo inside a section (kafka.bootstrap_server) is rejected."""
    data = minimal()
    data["kafka"]["bootstrap_server"] = "x:1"
    with pytest.raises(ConfigError, match=r"unknown key kafka\.bootstrap_server"):
        load(tmp_path, data)


def test_unknown_route_key_is_rejected(tmp_path: Path, suite: Path) -> None:
    """A typo in a route (qurantine) is rejected with the route's index."""
    data = minimal()
    data["routes"][0]["qurantine"] = "x"
    with pytest.raises(ConfigError, match=r"unknown key routes\[0\]\.qurantine"):
        load(tmp_path, data)


def test_password_in_the_file_is_refused(tmp_path: Path, suite: Path) -> None:
    """kafka.sasl_password in YAML is refused and points to the env var or file."""
    data = minimal()
    data["kafka"]["sasl_password"] = "hunter2"
    with pytest.raises(ConfigError, match="DQGATE_KAFKA_SASL_PASSWORD") as info:
        load(tmp_path, data)
    assert "hunter2" not in str(info.value)


def test_environment_overrides_the_file(tmp_path: Path, suite: Path) -> None:
    """DQGATE_BATCH_SIZE and DQGATE_KAFKA_BOOTSTRAP_SERVERS win over gate.yaml."""
    env = {"DQGATE_BATCH_SIZE": "42", "DQGATE_KAFKA_BOOTSTRAP_SERVERS": "a:1, b:2"}
    config = load(tmp_path, minimal(batch_size=7), env)
    assert config.batch_size == 42
    assert config.kafka.bootstrap_servers == ("a:1", "b:2")


def test_bad_environment_value_names_the_variable(tmp_path: Path, suite: Path) -> None:
    """A non-integer DQGATE_BATCH_SIZE is an error naming that variable."""
    with pytest.raises(ConfigError, match="environment DQGATE_BATCH_SIZE"):
        load(tmp_path, minimal(), {"DQGATE_BATCH_SIZE": "many"})


def test_boolean_is_not_an_integer(tmp_path: Path, suite: Path) -> None:
    """``batch_size: true`` is rejected instead of becoming 1."""
    with pytest.raises(ConfigError, match="batch_size"):
        load(tmp_path, minimal(batch_size=True))


def test_env_var_table_follows_key_paths() -> None:
    """Each scalar key has DQGATE_<PATH>; secrets have env vars too."""
    assert ENV_VARS["DQGATE_KAFKA_BOOTSTRAP_SERVERS"] == "kafka.bootstrap_servers"
    assert ENV_VARS["DQGATE_OUTPUT_TOPICS_PARTITIONS"] == "output_topics.partitions"
    assert ENV_VARS["DQGATE_METRICS_ADDRESS"] == "metrics_address"
    assert ENV_VARS["DQGATE_KAFKA_SASL_PASSWORD"] == "kafka.sasl_password"


def sasl(**kafka: Any) -> dict[str, Any]:
    """A configuration with SASL_PLAINTEXT/SCRAM-SHA-512 plus ``kafka`` keys."""
    data = minimal()
    data["kafka"].update(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512", sasl_username="gate"
    )
    data["kafka"].update(kafka)
    return data


def test_secret_from_environment_is_masked_in_repr(tmp_path: Path, suite: Path) -> None:
    """The SASL password comes from the environment and never shows in repr."""
    config = load(tmp_path, sasl(), {"DQGATE_KAFKA_SASL_PASSWORD": "s3cr3t-pw"})
    assert config.kafka.sasl_password is not None
    assert config.kafka.sasl_password.reveal() == "s3cr3t-pw"
    assert config.kafka.sasl_mechanism is SaslMechanism.SCRAM_SHA_512
    assert "s3cr3t-pw" not in repr(config)
    assert "s3cr3t-pw" not in str(config.kafka.sasl_password)


def test_secret_from_file_relative_to_the_config(tmp_path: Path, suite: Path) -> None:
    """sasl_password_file is read relative to gate.yaml, trailing newline dropped."""
    (tmp_path / "pw.txt").write_text("from-file\n", encoding="utf-8")
    config = load(tmp_path, sasl(sasl_password_file="pw.txt"))
    assert config.kafka.sasl_password is not None
    assert config.kafka.sasl_password.reveal() == "from-file"


def test_sasl_without_password_says_where_to_put_it(tmp_path: Path, suite: Path) -> None:
    """SASL without a password names both ways to give one."""
    with pytest.raises(
        ConfigError, match=r"DQGATE_KAFKA_SASL_PASSWORD or kafka\.sasl_password_file"
    ):
        load(tmp_path, sasl())


def test_sasl_settings_with_plaintext_protocol_are_rejected(tmp_path: Path, suite: Path) -> None:
    """A SASL mechanism with security_protocol PLAINTEXT is a contradiction."""
    data = minimal()
    data["kafka"]["sasl_mechanism"] = "PLAIN"
    with pytest.raises(ConfigError, match="use SASL_PLAINTEXT or SASL_SSL"):
        load(tmp_path, data)


def test_unknown_security_protocol_lists_the_allowed_ones(tmp_path: Path, suite: Path) -> None:
    """security_protocol TLS is rejected with the four allowed values."""
    data = minimal()
    data["kafka"]["security_protocol"] = "TLS"
    with pytest.raises(ConfigError, match="PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"):
        load(tmp_path, data)


def test_missing_ca_file_is_reported(tmp_path: Path, suite: Path) -> None:
    """An ssl_cafile that does not exist is an error naming the key."""
    data = minimal()
    data["kafka"].update(security_protocol="SSL", ssl_cafile="ca.pem")
    with pytest.raises(ConfigError, match=r"kafka\.ssl_cafile .*ca\.pem does not exist"):
        load(tmp_path, data)


def test_missing_suite_file_names_the_route(tmp_path: Path) -> None:
    """A suite file that does not exist is an error naming routes[0].suite."""
    with pytest.raises(ConfigError, match=r"routes\[0\]\.suite .*suite\.json does not exist"):
        load(tmp_path, minimal())


def test_topic_both_source_and_output_is_rejected(tmp_path: Path, suite: Path) -> None:
    """Route b's source being route a's clean topic would loop; it is rejected."""
    data = minimal()
    data["routes"].append(
        {"source": "ok", "suite": "suite.json", "clean": "c2", "quarantine": "q2"}
    )
    with pytest.raises(ConfigError, match="cannot be both a source and an output"):
        load(tmp_path, data)


def test_source_used_by_two_routes_is_rejected(tmp_path: Path, suite: Path) -> None:
    """Two routes on one source topic are rejected (one stream per source)."""
    data = minimal()
    data["routes"].append(
        {"name": "two", "source": "in", "suite": "suite.json", "clean": "c2", "quarantine": "q2"}
    )
    with pytest.raises(ConfigError, match="one route per source topic"):
        load(tmp_path, data)


def test_clean_and_quarantine_must_differ(tmp_path: Path, suite: Path) -> None:
    """A route whose clean and quarantine are the same topic is rejected."""
    data = minimal()
    data["routes"][0]["quarantine"] = "ok"
    with pytest.raises(ConfigError, match="use two different topics"):
        load(tmp_path, data)


def test_invalid_topic_name_is_rejected(tmp_path: Path, suite: Path) -> None:
    """A topic name with a space is not a Kafka topic name."""
    data = minimal()
    data["routes"][0]["clean"] = "not ok"
    with pytest.raises(ConfigError, match="not a valid Kafka topic name"):
        load(tmp_path, data)


def test_no_routes_is_an_error(tmp_path: Path, suite: Path) -> None:
    """A configuration without routes says a route is required."""
    data = minimal()
    del data["routes"]
    with pytest.raises(ConfigError, match="at least one route"):
        load(tmp_path, data)


def test_circuit_breaker_is_off_unless_configured(tmp_path: Path, suite: Path) -> None:
    """Without a circuit_breaker section, routes have no breaker."""
    assert load(tmp_path, minimal()).routes[0].circuit_breaker is None


def test_global_circuit_breaker_applies_to_routes(tmp_path: Path, suite: Path) -> None:
    """A top-level circuit_breaker is every route's default."""
    data = minimal(circuit_breaker={"window_records": 100, "max_quarantine_ratio": 0.5})
    expected = CircuitBreakerConfig(window_records=100, max_quarantine_ratio=0.5)
    assert load(tmp_path, data).routes[0].circuit_breaker == expected


def test_route_can_switch_the_breaker_off(tmp_path: Path, suite: Path) -> None:
    """``circuit_breaker: null`` on a route overrides the global breaker."""
    data = minimal(circuit_breaker={"window_records": 100, "max_quarantine_ratio": 0.5})
    data["routes"][0]["circuit_breaker"] = None
    assert load(tmp_path, data).routes[0].circuit_breaker is None


def test_breaker_ratio_of_one_is_rejected(tmp_path: Path, suite: Path) -> None:
    """max_quarantine_ratio 1.0 could never be exceeded; it is rejected."""
    data = minimal(circuit_breaker={"window_records": 10, "max_quarantine_ratio": 1.0})
    with pytest.raises(ConfigError, match=r"must be below 1\.0"):
        load(tmp_path, data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("off", None),
        ("9000", HttpAddress(host="127.0.0.1", port=9000)),
        (0, HttpAddress(host="127.0.0.1", port=0)),
        ("0.0.0.0:9100", HttpAddress(host="0.0.0.0", port=9100)),
        ("[::1]:9200", HttpAddress(host="::1", port=9200)),
    ],
)
def test_metrics_address_forms(text: str | int, expected: HttpAddress | None) -> None:
    """off, a port, host:port and [ipv6]:port are accepted; the host defaults to loopback."""
    assert parse_http_address(text) == expected


def test_unquoted_off_in_yaml_switches_metrics_off(tmp_path: Path, suite: Path) -> None:
    """``metrics_address: off`` (a YAML boolean) disables the HTTP endpoint."""
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(minimal()) + "metrics_address: off\n", encoding="utf-8")
    assert load_config(path, environ={}).metrics_address is None


def test_metrics_address_out_of_range_is_rejected(tmp_path: Path, suite: Path) -> None:
    """Port 70000 is rejected, naming metrics_address."""
    with pytest.raises(ConfigError, match="metrics_address"):
        load(tmp_path, minimal(metrics_address="70000"))


def args(**given: Any) -> argparse.Namespace:
    """``dqgate run`` arguments with ``given`` set and the rest None."""
    names = ("config", "bootstrap_servers", "group", "engine", "metrics_address")
    names += ("source", "suite", "clean", "quarantine", "name")
    return argparse.Namespace(**{n: given.get(n) for n in names})


def test_single_route_from_the_command_line(suite: Path) -> None:
    """--bootstrap-servers/--source/--suite/--clean/--quarantine/--group make one route."""
    config = config_from_args(
        args(bootstrap_servers="h:1", source="s", suite=str(suite), clean="c", quarantine="q",
             group="g")
    )  # fmt: skip
    assert config.group_id == "g"
    assert [(r.source, r.clean, r.quarantine) for r in config.routes] == [("s", "c", "q")]


def test_command_line_needs_a_whole_route(suite: Path) -> None:
    """A partial route on the command line names the missing flags."""
    with pytest.raises(ConfigError, match="missing: --clean, --quarantine"):
        config_from_args(args(bootstrap_servers="h:1", source="s", suite=str(suite)))


def test_command_line_flags_override_the_file(
    tmp_path: Path, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--group and --bootstrap-servers beat both gate.yaml and the environment."""
    monkeypatch.setenv("DQGATE_GROUP_ID", "from-env")
    path = write(tmp_path, minimal(group_id="from-file"))
    config = config_from_args(args(config=str(path), group="from-flag", bootstrap_servers="z:9"))
    assert config.group_id == "from-flag"
    assert config.kafka.bootstrap_servers == ("z:9",)


def test_example_configuration_loads() -> None:
    """gate.example.yaml at the repository root is valid as shipped."""
    example = Path(__file__).resolve().parents[2] / "gate.example.yaml"
    config = load_config(example, environ={})
    assert [r.name for r in config.routes] == ["incidents"]
    assert config.routes[0].circuit_breaker is None


def test_redact_lists_field_names(tmp_path: Path, suite: Path) -> None:
    """``redact:`` is a list of record field names; anything else is rejected."""
    assert load(tmp_path, minimal(redact=["ssn", "name"])).redact == ("ssn", "name")
    with pytest.raises(ConfigError, match="expected a list of field names"):
        load(tmp_path, minimal(redact="ssn"))


def test_window_settings_from_file_and_environment(tmp_path: Path, suite: Path) -> None:
    """window_records / window_seconds come from gate.yaml, DQGATE_WINDOW_* override them."""
    config = load(tmp_path, minimal(window_records=250), {"DQGATE_WINDOW_SECONDS": "5"})
    assert (config.window_records, config.window_seconds) == (250, 5.0)


def test_route_suite_parameters_are_kept(tmp_path: Path, suite: Path) -> None:
    """A route's suite_parameters reach the RouteConfig as (name, value) pairs."""
    data = minimal()
    data["routes"][0]["suite_parameters"] = {"min_age": 18, "region": "north"}
    config = load(tmp_path, data)
    assert dict(config.routes[0].suite_parameters) == {"min_age": 18, "region": "north"}


def test_route_suite_parameters_must_be_a_mapping(tmp_path: Path, suite: Path) -> None:
    """suite_parameters given as a list is refused with an example of the right shape."""
    data = minimal()
    data["routes"][0]["suite_parameters"] = ["min_age"]
    with pytest.raises(ConfigError, match="suite_parameters must be a mapping"):
        load(tmp_path, data)


def test_duplicate_top_level_key_names_both_lines(tmp_path: Path, suite: Path) -> None:
    """A second group_id is refused naming its line and the first one's (not last-wins)."""
    path = tmp_path / "gate.yaml"
    path.write_text(
        "kafka: {bootstrap_servers: '127.0.0.1:9092'}\n"
        "group_id: incidents\n"
        "routes: [{source: in, suite: suite.json, clean: ok, quarantine: bad}]\n"
        "group_id: incidents-v2\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "gate.yaml" in message and "duplicate key 'group_id'" in message
    assert "line 4" in message and "first at line 2" in message


def test_duplicate_key_inside_a_route_is_refused(tmp_path: Path, suite: Path) -> None:
    """Nested mappings are checked too: a route with two `quarantine:` keys."""
    path = tmp_path / "gate.yaml"
    path.write_text(
        "kafka:\n  bootstrap_servers: 127.0.0.1:9092\nroutes:\n  - source: in\n"
        "    suite: suite.json\n    clean: ok\n    quarantine: bad\n    quarantine: worse\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"line 8: duplicate key 'quarantine' \(first at line 7"):
        load_config(path, environ={})


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path, suite: Path) -> None:
    """A key brought in by `<<: *anchor` and set again is an override, not a duplicate."""
    path = tmp_path / "gate.yaml"
    path.write_text(
        "kafka: {bootstrap_servers: '127.0.0.1:9092'}\n"
        "base: &base {source: in, suite: suite.json, clean: ok, quarantine: bad}\n"
        "routes: [{<<: *base, quarantine: worse}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown key 'base'"):  # parsed fine, then checked
        load_config(path, environ={})


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path, suite: Path) -> None:
    """A YAML syntax error says which file, and where, not '<unicode string>'."""
    path = tmp_path / "broken.yaml"
    path.write_text("kafka:\n  bootstrap_servers: [a\nroutes: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert '"<unicode string>"' not in message and f'"{path}", line 2' in message


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [({"batch_siz": 5}, "batch_size"), ({"comit_interval_s": 1}, "commit_interval_s")],
)
def test_unknown_top_level_key_gets_a_did_you_mean(
    tmp_path: Path, suite: Path, typo: dict[str, Any], suggestion: str
) -> None:
    """A near miss of a known key is named as the likely fix."""
    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'"):
        load(tmp_path, minimal(**typo))


def test_unknown_section_and_route_keys_get_a_did_you_mean(tmp_path: Path, suite: Path) -> None:
    """kafka.bootstrap_server and routes[0].qurantine name bootstrap_servers / quarantine."""
    data = minimal()
    data["kafka"]["bootstrap_server"] = "x:1"
    with pytest.raises(ConfigError, match="did you mean 'bootstrap_servers'"):
        load(tmp_path, data)
    data = minimal()
    data["routes"][0]["qurantine"] = "x"
    with pytest.raises(ConfigError, match="did you mean 'quarantine'"):
        load(tmp_path, data)


def test_unknown_dqgate_environment_variable_is_an_error(tmp_path: Path, suite: Path) -> None:
    """DQGATE_BATCH_SIZ=5 is refused with the variable it probably meant (not ignored)."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, minimal(), {"DQGATE_BATCH_SIZ": "5"})
    message = str(info.value)
    assert "environment DQGATE_BATCH_SIZ" in message
    assert "did you mean 'DQGATE_BATCH_SIZE'" in message


def test_dqgate_variables_read_elsewhere_are_not_errors(tmp_path: Path, suite: Path) -> None:
    """DQGATE_NATIVE, DQGATE_KAFKA_HOME and the test suite's variables are known."""
    env = {
        "DQGATE_NATIVE": "0",
        "DQGATE_KAFKA_HOME": "/opt/kafka",
        "DQGATE_TEST_BOOTSTRAP": "127.0.0.1:9092",
        "DQGATE_PARITY_SEED": "1",
        "OTHER_BATCH_SIZ": "5",
    }
    assert load(tmp_path, minimal(), env).batch_size == 500


def test_a_suite_without_expectations_is_refused(tmp_path: Path) -> None:
    """An empty suite would pass every record: refused, naming the route and the fix."""
    (tmp_path / "suite.json").write_text(EMPTY_SUITE_JSON, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(tmp_path, minimal())
    message = str(info.value)
    assert "routes[0] (in)" in message and "has no expectations" in message
    assert "allow_empty_suite: true" in message


def test_allow_empty_suite_or_pass_through_accepts_an_empty_suite(tmp_path: Path) -> None:
    """allow_empty_suite: true (or validate: false) says the empty suite is intended."""
    (tmp_path / "suite.json").write_text(EMPTY_SUITE_JSON, encoding="utf-8")
    for key, value in (("allow_empty_suite", True), ("validate", False)):
        data = minimal()
        data["routes"][0][key] = value
        assert load(tmp_path, data).routes[0].source == "in"


def test_audit_log_is_resolved_next_to_the_file(tmp_path: Path, suite: Path) -> None:
    """audit_log: a relative path is relative to gate.yaml; its folder must exist."""
    assert load(tmp_path, minimal(audit_log="audit.jsonl")).audit_log == str(
        tmp_path / "audit.jsonl"
    )
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path, minimal(audit_log="missing/audit.jsonl"))
