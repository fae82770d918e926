"""docker-compose.yml is shipped but Docker is not on our machines: check it against the code
(service names, commands, ports, health checks, and that every BANLI_* variable is a setting)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from apps.cli import SERVICE_PORTS, build_parser
from banli.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BANLI_SERVICES = ("topics", "intake", "handling", "reporting")


def subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)


def test_the_stack_has_kafka_clickhouse_and_the_three_services():
    assert set(COMPOSE["services"]) == {"kafka", "clickhouse", *BANLI_SERVICES}
    assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert COMPOSE["services"]["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_every_service_runs_a_banli_command_from_the_one_image():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["banli"]' in dockerfile
    assert COMPOSE["services"]["topics"]["build"]["dockerfile"] == "deploy/Dockerfile"
    for name in BANLI_SERVICES:
        service = COMPOSE["services"][name]
        assert service["image"] == "banli:latest"
        assert service["command"][0] in subcommands(), name


def test_ports_and_health_checks_match_the_services():
    for name, port in SERVICE_PORTS.items():
        service = COMPOSE["services"][name]
        command = service["command"]
        assert command[command.index("--port") + 1] == str(port)
        assert service["ports"] == [f"{port}:{port}"]
        check = " ".join(service["healthcheck"]["test"])
        assert f"localhost:{port}/healthz" in check


def test_every_banli_variable_is_a_setting():
    fields = set(Settings.model_fields)
    seen = set()
    for name in BANLI_SERVICES:
        for key in COMPOSE["services"][name]["environment"]:
            assert key.startswith("BANLI_"), key
            field = key.removeprefix("BANLI_").lower()
            assert field in fields, f"{key} is not a setting"
            seen.add(field)
    assert {"kafka_bootstrap", "secret", "clickhouse_dsn", "topic_partitions"} <= seen
    env = COMPOSE["services"]["reporting"]["environment"]
    assert re.match(r"https?://", env["BANLI_CLICKHOUSE_DSN"])
    assert env["BANLI_KAFKA_BOOTSTRAP"].split(":")[0] == "kafka"


def test_start_order_and_volumes():
    services = COMPOSE["services"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("intake", "handling", "reporting"):
        assert services[name]["depends_on"]["topics"]["condition"] == \
            "service_completed_successfully"
    assert services["reporting"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    declared = set(COMPOSE["volumes"])
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used == declared


def test_the_services_share_one_letters_volume_where_the_letters_setting_points():
    """Reply letters are uploaded through handling or reporting, checked by every service that
    takes commands and downloaded through reporting: all three see the same files."""
    services = COMPOSE["services"]
    for name in ("intake", "handling", "reporting"):
        env = services[name]["environment"]
        assert Settings(**{"data_dir": env["BANLI_DATA_DIR"],
                           "letters_dir": env["BANLI_LETTERS_DIR"]}).letters_path == \
            Path("/letters")
        assert "BANLI_LETTERS_S3_BUCKET" not in env  # the shared volume, not S3, in this file
        assert "letters:/letters" in services[name]["volumes"], name
