"""docker-compose.yml's `cluster` profile runs what ops/cluster_drill.py proves in CI.

No container engine runs on the CI machine, so the profile cannot be started there; this
reads the compose file, ops/haproxy.cfg and ops/prometheus.yml and checks them against the
drill: the same set-up commands, the same `hotline serve` arguments, production settings, the
same haproxy settings (retries, request buffering, the runtime API for draining), and
Prometheus scraping every instance directly.
"""

import importlib.util
import re
import shlex
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
CLUSTER = {"migrate", "app1", "app2", "haproxy", "prometheus"}


def _drill():
    spec = importlib.util.spec_from_file_location("cluster_drill", REPO / "ops/cluster_drill.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drill = _drill()


def compose() -> dict:
    return YAML(typ="safe").load((REPO / "docker-compose.yml").read_text())


def argv(command: object) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def haproxy_directives(text: str) -> set[tuple[str, str]]:
    """(section, directive) pairs, comments dropped and spaces normalised; what differs
    between the two deployments by nature (addresses, names, logging, check interval) left
    out."""
    local = ("bind", "server ", "log", "option httplog", "option dontlog-normal")
    local += ("default-server", "stats socket")
    pairs, section = set(), ""
    for raw in text.splitlines():
        line = " ".join(raw.split("#", 1)[0].split())
        if not line:
            continue
        if not raw[0].isspace():
            section = line.split()[0]
        elif not line.startswith(local):
            pairs.add((section, line.replace("{{", "{").replace("}}", "}")))
    return pairs


def test_the_cluster_profile_has_its_services_and_nothing_else_joins_it():
    services = compose()["services"]
    in_profile = {name for name, s in services.items() if "cluster" in s.get("profiles", [])}
    assert in_profile == CLUSTER
    # `docker compose up` without the profile still starts the database and one app.
    assert {name for name, s in services.items() if not s.get("profiles")} == {"db", "app"}


def test_the_instances_start_as_the_drill_starts_them():
    services = compose()["services"]
    setup = argv(services["migrate"]["command"])
    assert setup[:2] == ["sh", "-c"]
    steps = [shlex.split(part) for part in setup[2].split("&&")]
    assert steps == [["hotline", *command] for command in drill.SETUP_COMMANDS]
    for name in ("app1", "app2"):
        app = services[name]
        command = argv(app["command"])
        assert command == ["hotline", *drill.serve_arguments("0.0.0.0", 8000)]
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "readyz" in " ".join(app["healthcheck"]["test"])


def test_the_instances_run_with_production_settings():
    services = compose()["services"]
    drilled = drill.instance_settings("hotline", Path("/rules"))
    for name in ("migrate", "app1", "app2"):
        env = services[name]["environment"]
        assert env["HOTLINE_ENV"] == drilled["HOTLINE_ENV"] == "production"
        # Secrets come from the operator's environment, never from the file.
        assert env["HOTLINE_SECRET_KEY"] == "${HOTLINE_SECRET_KEY:-}"
        assert env["HOTLINE_METRICS_TOKEN"] == "${HOTLINE_METRICS_TOKEN:-}"
        assert env["HOTLINE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert set(env) <= set(drilled)


def test_postgres_connections_fit():
    """Two instances x two workers, each with its pool and overflow (HOTLINE_DB_POOL_SIZE
    each) and three direct sessions (caller-cache LISTEN, relay LISTEN, leader lock), within
    PostgreSQL's default 100 less 3 for superusers (docs/operations.md's arithmetic)."""
    services = compose()["services"]
    apps = [services[n] for n in ("app1", "app2")]
    workers = [int(argv(a["command"])[argv(a["command"]).index("--workers") + 1]) for a in apps]
    pool = int(apps[0]["environment"]["HOTLINE_DB_POOL_SIZE"])
    assert sum(w * (2 * pool + 3) for w in workers) <= 97


def test_haproxy_is_configured_as_in_the_drill():
    shipped = (REPO / "ops/haproxy.cfg").read_text()
    with tempfile.TemporaryDirectory() as scratch:
        drilled = drill.haproxy_config(Path(scratch)).read_text()
    assert haproxy_directives(shipped) == haproxy_directives(drilled)
    # Its servers are the profile's instances, on the port they serve.
    servers = re.findall(r"^\s*server (\S+) (\S+) check", shipped, re.M)
    assert servers == [("app1", "app1:8000"), ("app2", "app2:8000")]
    # The runtime API (drain before a restart) is there, and published on loopback only.
    assert re.search(r"^\s*stats socket \S+ .*level admin", shipped, re.M)
    port = re.search(r"stats socket ipv4@0\.0\.0\.0:(\d+)", shipped).group(1)
    assert compose()["services"]["haproxy"]["ports"] == ["8080:8080", f"127.0.0.1:{port}:{port}"]


def test_prometheus_scrapes_each_instance_with_the_token():
    yaml = YAML(typ="safe")
    config = yaml.load((REPO / "ops/prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["app1:8000", "app2:8000"]
    token = job["authorization"]["credentials_file"]
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert f"./ops/metrics-token:{token}:ro" in mounts


def test_the_alert_rules_name_only_metrics_that_exist():
    from prometheus_client import REGISTRY

    import app.metrics  # noqa: F401 (registers the metrics)

    known = {metric.name for metric in REGISTRY.collect() if metric.name.startswith("hotline_")}
    rules = YAML(typ="safe").load((REPO / "ops/prometheus-alerts.yml").read_text())
    (group,) = rules["groups"]
    assert {r["alert"] for r in group["rules"]} >= {
        "HotlineOutboxLate",
        "HotlineWebhookFailures",
        "HotlineWebhookEndpointDisabled",
    }
    for rule in group["rules"]:
        for name in re.findall(r"\bhotline_[a-z_]+", rule["expr"]):
            base = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert base in known, f"{rule['alert']} names {name}, which no metric exports"
    config = YAML(typ="safe").load((REPO / "ops/prometheus.yml").read_text())
    mounts = compose()["services"]["prometheus"]["volumes"]
    (rule_file,) = config["rule_files"]
    assert f"./ops/prometheus-alerts.yml:{rule_file}:ro" in mounts


def test_every_served_instance_may_finish_its_stop_before_docker_kills_it():
    from app.shutdown import WATCHDOG_SECONDS

    services = compose()["services"]
    serving = {
        name
        for name, s in services.items()
        if "hotline serve" in " ".join(argv(s.get("command", [])))
    }
    assert serving == {"app", "app1", "app2"}
    for name in serving:
        grace = services[name].get("stop_grace_period", "10s")  # Docker's default: 10 s
        assert grace.endswith("s") and int(grace[:-1]) > WATCHDOG_SECONDS, name
