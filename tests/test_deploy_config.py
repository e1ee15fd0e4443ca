"""The production configuration in deploy/ agrees with the project.

Docker is not available where the suite runs, so deploy/compose.yml is checked rather than run:
every variable it, the systemd units and the production endpoints/credentials use is documented
in deploy/production.env.example (and every documented one is read by something), every command
parses with the real command-line parser of the program it starts, every file it mounts exists,
and each replica's URLs name the services of the same replica. The same topology runs for real
in tests/e2e/test_production.py (scripts/stack.py, `Stack(replicas=2)`).
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT_DIR / "deploy"
SYSTEMD = DEPLOY / "systemd"
VARIABLE = re.compile(r"\$\$?\{?([A-Z][A-Z0-9_]*)\}?")
# Read by programs other than this project's: the postgres image, Rasa, sanic (action server).
EXTERNAL = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "RASA_TELEMETRY_ENABLED",
    "SANIC_HOST",
}


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            assert name == name.strip() and name.isupper(), f"{path.name}: {line!r}"
            values[name] = value
    return values


def documented_with_comment(path: Path) -> dict[str, str]:
    """Each variable and the comment right above it (or above its group)."""
    comments, last = {}, ""
    for line in path.read_text().splitlines():
        if line.startswith("# ") and not line.startswith("# ---"):
            last = line
        elif line.strip() and not line.startswith("#"):
            comments[line.partition("=")[0]] = last
        elif not line.strip():
            last = ""
    return comments


EXAMPLE = env_file(DEPLOY / "production.env.example")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def command_lines(command: list[str] | str) -> list[list[str]]:
    """A compose command as argv lists: `sh -c "a && b"` gives two."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def expand(argv: list[str], env: dict[str, str]) -> list[str]:
    return [VARIABLE.sub(lambda m: env[m.group(1)], arg) for arg in argv]


def parse_command(argv: list[str]) -> None:
    """Parse argv with the real parser of the module it runs; argparse exits on a bad flag."""
    assert argv[0].endswith("python") and argv[1] == "-m", argv
    module, arguments = argv[2], argv[3:]
    if module == "handoff_component.service":
        from handoff_component.service.__main__ import build_parser

        args = build_parser().parse_args(arguments)
        assert args.command in ("serve", "migrate", "seed"), argv
        if args.command == "seed":
            assert (PROJECT_DIR / Path(args.file).relative_to("/app")).exists(), argv
    elif module == "rasa":
        from rasa.__main__ import create_argument_parser

        args = create_argument_parser().parse_args(arguments)
        assert arguments[0] == "run", argv
        for path in (args.credentials, args.endpoints):
            assert (PROJECT_DIR / path).is_file(), f"{argv}: no {path}"
    elif module == "rasa_sdk":
        from rasa_sdk.endpoint import create_argument_parser

        args = create_argument_parser().parse_args(arguments)
        assert (PROJECT_DIR / args.actions).is_dir(), argv
    else:
        raise AssertionError(f"unknown module {module}")


def test_every_documented_variable_has_a_comment_and_a_reader() -> None:
    readers = "\n".join(
        path.read_text()
        for path in [
            DEPLOY / "endpoints.production.yml",
            DEPLOY / "endpoints.rabbitmq.yml",
            DEPLOY / "credentials.production.yml",
            DEPLOY / "compose.yml",
            DEPLOY / "compose.rabbitmq.yml",
            PROJECT_DIR / "handoff_component" / "service" / "settings.py",
            PROJECT_DIR / "handoff_component" / "bot" / "actions.py",
            *SYSTEMD.glob("*.service"),
        ]
    )
    comments = documented_with_comment(DEPLOY / "production.env.example")
    for name in EXAMPLE:
        assert comments.get(name), f"{name} has no comment in production.env.example"
        if name not in EXTERNAL:
            assert re.search(rf"\b{name}\b", readers), f"nothing reads {name}"


def test_every_variable_the_service_and_actions_read_is_documented() -> None:
    """Active or commented out (an optional setting left at its default)."""
    text = (DEPLOY / "production.env.example").read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, re.M))
    for source in ("service/settings.py", "bot/actions.py"):
        code = (PROJECT_DIR / "handoff_component" / source).read_text()
        read = set(re.findall(r"\"(HANDOFF_[A-Z0-9_]+)\"", code))
        assert read, source
        assert read <= documented, f"{source}: undocumented {sorted(read - documented)}"


@pytest.mark.parametrize(
    "name", ["endpoints.production.yml", "endpoints.rabbitmq.yml", "credentials.production.yml"]
)
def test_the_production_rasa_files_use_only_documented_variables(name: str) -> None:
    used = set(VARIABLE.findall((DEPLOY / name).read_text()))
    assert used, name
    assert used <= set(EXAMPLE), f"{name}: undocumented {sorted(used - set(EXAMPLE))}"


def test_compose_has_the_production_topology(compose: dict) -> None:
    services = set(compose["services"])
    assert {"postgres", "redis", "load-balancer"} <= services
    for replica in (1, 2):
        assert {f"rasa-{replica}", f"actions-{replica}", f"handoff-service-{replica}"} <= services


def test_compose_uses_only_documented_variables_and_existing_files(compose: dict) -> None:
    for name, service in compose["services"].items():
        if "env_file" in service:
            assert service["env_file"] == "production.env", name
        for variable in service.get("environment") or {}:
            assert variable in EXAMPLE, f"{name}: {variable} is not in production.env.example"
        command = service.get("command") or []
        text = command if isinstance(command, str) else " ".join(map(str, command))
        for variable in VARIABLE.findall(text):
            assert variable in EXAMPLE, f"{name}: ${variable} is not in production.env.example"
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name}: no {source}"
        if "build" in service:
            build = service["build"]
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), name


def test_compose_commands_parse_with_the_project_parsers(compose: dict) -> None:
    services = app_services(compose)
    assert len(services) == 7
    for service in services.values():
        env = {**EXAMPLE, **(service.get("environment") or {})}
        for argv in command_lines(service["command"]):
            parse_command(expand(argv, env))


def test_each_replica_talks_to_its_own_peers(compose: dict) -> None:
    services = compose["services"]

    def host(url: str) -> str:
        return re.match(r"https?://([^:/]+)", url).group(1)

    for replica in (1, 2):
        rasa = services[f"rasa-{replica}"]["environment"]
        assert host(rasa["ACTION_ENDPOINT_URL"]) == f"actions-{replica}"
        assert host(rasa["HANDOFF_SERVICE_URL"]) == f"handoff-service-{replica}"
        actions = services[f"actions-{replica}"]["environment"]
        assert host(actions["HANDOFF_SERVICE_URL"]) == f"handoff-service-{replica}"
        service = services[f"handoff-service-{replica}"]["environment"]
        assert host(service["HANDOFF_CONNECTOR_URL"]) == f"rasa-{replica}"
        assert service["HANDOFF_CONNECTOR_URL"].endswith("/webhooks/handoff/")
    # Each Rasa replica has an outbox volume of its own.
    volumes = [services[f"rasa-{r}"]["volumes"][0].split(":")[0] for r in (1, 2)]
    assert len(set(volumes)) == 2


def test_the_load_balancer_sends_to_the_replicas(compose: dict) -> None:
    config = (DEPLOY / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", config, re.S))
    servers = {
        name: set(re.findall(r"server ([\w-]+):(\d+);", body)) for name, body in upstreams.items()
    }
    assert servers["rasa"] == {("rasa-1", "5005"), ("rasa-2", "5005")}
    assert servers["rasa_socketio"] == servers["rasa"]
    assert servers["handoff_service"] == {
        ("handoff-service-1", "5100"),
        ("handoff-service-2", "5100"),
    }
    for name, _ in set().union(*servers.values()):
        assert name in compose["services"]
    # The live stream must not be buffered; the connector is not public.
    assert re.search(r"location /api/stream \{[^}]*proxy_buffering off;", config)
    assert re.search(r"location /webhooks/handoff/ \{\s*return 404;", config)


@pytest.mark.parametrize("unit", sorted(p.name for p in SYSTEMD.glob("*.service")))
def test_systemd_units_start_real_commands_with_documented_variables(unit: str) -> None:
    assert unit.endswith("@.service"), "templated units: one instance per replica"
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(SYSTEMD / unit)
    service = parser["Service"]
    assert service["EnvironmentFile"]  # the last one: the replica's own file
    assert "/etc/handoff/production.env" in (SYSTEMD / unit).read_text()
    argv = shlex.split(service["ExecStart"])
    for variable in VARIABLE.findall(service["ExecStart"]):
        assert variable in EXAMPLE, f"{unit}: ${variable} is not in production.env.example"
    argv[0] = "python"  # /opt/smart-handoff/.venv/bin/python
    parse_command(expand(argv, EXAMPLE))


def test_the_replica_env_example_only_overrides_documented_variables() -> None:
    replica = env_file(SYSTEMD / "replica.env.example")
    assert set(replica) <= set(EXAMPLE), sorted(set(replica) - set(EXAMPLE))


# --- the RabbitMQ event delivery (docs/deployment.md, "Event delivery") -----------------------


def test_the_rabbitmq_endpoints_differ_from_the_production_ones_in_the_broker_only() -> None:
    http = yaml.safe_load((DEPLOY / "endpoints.production.yml").read_text())
    rabbit = yaml.safe_load((DEPLOY / "endpoints.rabbitmq.yml").read_text())

    assert http.pop("event_broker")["type"] == "handoff_component.HandoffEventBroker"
    broker = rabbit.pop("event_broker")
    assert broker["type"] == "pika"  # Rasa's own broker (HandoffTrackerStore feeds it)
    assert broker["queues"] == ["handoff_events"]  # the service's default `queue`
    assert rabbit == http


def test_the_rabbitmq_override_wires_rasa_and_every_service_replica(compose: dict) -> None:
    override = yaml.safe_load((DEPLOY / "compose.rabbitmq.yml").read_text())
    services = override["services"]
    commented = set(
        re.findall(r"^# ([A-Z][A-Z0-9_]*)=", (DEPLOY / "production.env.example").read_text(), re.M)
    )
    assert "rabbitmq" in services and "rabbitmq-init" in services
    for replica in (1, 2):
        assert f"rasa-{replica}" in compose["services"]
        argv = [str(a) for a in services[f"rasa-{replica}"]["command"]]
        assert argv[argv.index("--endpoints") + 1] == "deploy/endpoints.rabbitmq.yml"
        parse_command(argv)
        url = services[f"handoff-service-{replica}"]["environment"]["HANDOFF_EVENTS_URL"]
        assert url.startswith("amqp://") and url.endswith("/${RABBITMQ_VHOST}")
    for name, service in services.items():
        for variable in service.get("environment") or {}:
            assert (
                variable in EXAMPLE
                or variable in commented
                or variable.startswith("RABBITMQ_DEFAULT_")
            ), name
        for value in (service.get("environment") or {}).values():
            for variable in VARIABLE.findall(str(value)):
                assert variable in EXAMPLE, f"{name}: ${variable} is not in production.env.example"


def _filled(example: dict[str, str]) -> dict[str, str]:
    """The example as an operator fills it: each placeholder secret replaced by a random one."""
    import secrets

    return {
        **example,
        "HANDOFF_SECRET": secrets.token_urlsafe(32),
        "HANDOFF_SESSION_SECRET": secrets.token_urlsafe(32),
    }


def test_the_production_example_is_refused_until_its_secrets_are_filled_in() -> None:
    from handoff_component.service.settings import Settings

    as_shipped = Settings.from_env(EXAMPLE).problems()
    filled = Settings.from_env(_filled(EXAMPLE))

    assert as_shipped == [
        "HANDOFF_SECRET is a placeholder value; generate a random one",
        "HANDOFF_SESSION_SECRET is a placeholder value; generate a random one",
    ]
    assert filled.problems() == []
    assert filled.demo is False


def test_production_seeds_no_account_with_a_published_password(compose: dict) -> None:
    """The init job applies HANDOFF_SEED_FILE at every `up`: it must create nobody to sign in as."""
    from handoff_component.service.seed import read_seed

    init = compose["services"]["handoff-init"]
    commands = [expand(a, EXAMPLE) for a in command_lines(init["command"])]
    seeds = [argv[argv.index("seed") + 1] for argv in commands if "seed" in argv]
    assert seeds, "the init job applies a seed"
    for seed in seeds:
        data = read_seed(PROJECT_DIR / Path(seed).relative_to("/app"))
        assert data.get("demo") is not True, seed
        assert not data.get("attendants"), f"{seed} creates attendants with known passwords"


def test_the_service_believes_forwarded_headers_from_exactly_the_shipped_proxy(
    compose: dict,
) -> None:
    """nginx is the one proxy before the service: it appends the client address and passes the
    scheme on every location that reaches the service, and the service counts one proxy."""
    from handoff_component.service.settings import Settings

    config = (DEPLOY / "nginx.conf").read_text()
    service_locations = [
        body
        for body in re.findall(r"location [^{]+\{([^}]*)\}", config)
        if "proxy_pass http://handoff_service" in body
    ]
    settings = Settings.from_env(_filled(EXAMPLE))

    # The Inbox and API, its live stream, attachment uploads, and customers' file links.
    assert len(service_locations) == 4
    for body in service_locations:
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in body
        assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in body
    assert settings.proxies_count == 1
    assert settings.cookie_is_secure("http") is True  # Secure even if the proxy says http


def test_slow_and_flooding_attendant_clients_are_bounded_at_the_proxy() -> None:
    """The service's own per-address bound sees only nginx, so nginx bounds each client."""
    from handoff_component.service.settings import Settings

    config = (DEPLOY / "nginx.conf").read_text()
    attendants = config[config.index("listen 8081;") :]

    assert re.search(r"limit_conn_zone \$binary_remote_addr zone=attendant_clients:", config)
    assert re.search(r"limit_conn attendant_clients \d+;", attendants)
    assert re.search(r"client_body_timeout \d+s;", attendants)
    assert Settings.from_env(_filled(EXAMPLE)).max_connections_per_address == 0
