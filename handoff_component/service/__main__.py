"""`handoff-service`: run the service, or administer its database.

    handoff-service --db URL --port N [--host 127.0.0.1] [--seed FILE] [--secret S] [--demo]
    handoff-service migrate --db URL
    handoff-service create-team NAME [--display-name ...] [--webhook-url ...] --db URL
    handoff-service create-attendant USERNAME --password-stdin [--role supervisor] [--team T ...]
    handoff-service seed FILE --db URL [--reset-passwords] [--demo]

Flags win over the environment (HANDOFF_DB_URL, HANDOFF_SECRET, HANDOFF_SESSION_SECRET,
HANDOFF_PORT, HANDOFF_HOST, HANDOFF_CONNECTOR_URL, HANDOFF_REOPEN_WINDOW_MINUTES, ...).

Serving refuses to start without HANDOFF_SECRET and HANDOFF_SESSION_SECRET (random, 32 bytes or
more, different from each other), naming what is missing; `--demo` is the explicit exception for
a local demo (`make run`). The administrative commands serve nothing and sign nothing, so they
need neither secret.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from handoff_component.service.settings import Settings

SEED_HELP = (
    "YAML file of teams, attendants and canned replies, applied at start (format: "
    "docs/deployment.md, 'The seed file'; `python -m handoff_component init` writes a bot's "
    "service.yml from the template handoff_component/cli/templates/service.yml)"
)
COMMANDS = ("serve", "migrate", "create-team", "create-attendant", "seed")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", dest="db_url", help="database URL (sqlite:/// or postgresql://)")
    parser.add_argument("--secret", help="shared HMAC secret with Rasa's side")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handoff-service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the HTTP service (the default)")
    _common(serve)
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 5100)")
    serve.add_argument("--seed", help=SEED_HELP)
    serve.add_argument("--connector-url", help="Rasa's HandoffConnector base URL")
    serve.add_argument("--reopen-window-minutes", type=float)
    serve.add_argument("--inactivity-minutes", type=float)
    serve.add_argument("--automation-interval", type=float, help="seconds between passes")
    serve.add_argument("--default-team", help="team for handoffs naming an unknown team")
    serve.add_argument("--rules-file", help="Rasa's handoff.yml, shown on the Inbox rules page")
    serve.add_argument("--workers", type=int, default=1, help="sanic worker processes")
    serve.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="local demo only: make up missing secrets, accept the demo seed (HANDOFF_DEMO)",
    )

    migrate = commands.add_parser("migrate", help="upgrade the schema to the latest revision")
    _common(migrate)

    team = commands.add_parser("create-team", help="add a team")
    _common(team)
    team.add_argument("name")
    team.add_argument("--display-name")
    team.add_argument("--webhook-url")
    team.add_argument("--webhook-secret")

    attendant = commands.add_parser("create-attendant", help="add an attendant")
    _common(attendant)
    attendant.add_argument("username")
    password = attendant.add_mutually_exclusive_group(required=True)
    password.add_argument("--password", help="visible to other users in `ps`: prefer stdin")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    attendant.add_argument("--display-name")
    attendant.add_argument("--role", choices=("attendant", "supervisor"), default="attendant")
    attendant.add_argument("--team", action="append", default=[], dest="teams")

    seed = commands.add_parser("seed", help="apply a seed YAML file")
    _common(seed)
    seed.add_argument("file", help=SEED_HELP.replace(", applied at start", ""))
    seed.add_argument(
        "--reset-passwords",
        action="store_true",
        help="set the file's passwords on existing attendants too (by default only new ones)",
    )
    seed.add_argument("--demo", action="store_true", help="accept a demo seed (demo: true)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "db_url": args.db_url,
        "secret": args.secret,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "connector_url": getattr(args, "connector_url", None),
        "rules_file": getattr(args, "rules_file", None),
        "default_team": getattr(args, "default_team", None),
        "automation_interval_seconds": getattr(args, "automation_interval", None),
        "demo": getattr(args, "demo", None),
    }
    if getattr(args, "reopen_window_minutes", None) is not None:
        overrides["reopen_window"] = timedelta(minutes=args.reopen_window_minutes)
    if getattr(args, "inactivity_minutes", None) is not None:
        overrides["inactivity_timeout"] = timedelta(minutes=args.inactivity_minutes)
    return Settings.from_env(**overrides)


def serve(args: argparse.Namespace) -> int:
    from handoff_component.service.app import DEMO_WARNING, create_app, server_options
    from handoff_component.service.seed import DemoSeedRefused, read_seed, refuse_demo_seed
    from handoff_component.service.settings import InsecureConfiguration

    settings = settings_from(args)
    settings.app_name = "handoff_service"
    try:
        app = create_app(settings, seed_file=args.seed)
        if args.seed:
            refuse_demo_seed(args.seed, read_seed(args.seed), allow_demo=settings.demo)
    except (InsecureConfiguration, DemoSeedRefused) as error:
        print(f"handoff-service: {error}", file=sys.stderr)
        return 2
    if settings.demo:
        banner = "!" * 78
        print(f"{banner}\n!!! {DEMO_WARNING}\n{banner}", file=sys.stderr, flush=True)
    app.run(
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        access_log=False,
        motd=False,
        **server_options(app),
    )
    return 0


def _with_stores(args: argparse.Namespace, work: Callable[[Any], Coroutine[Any, Any, Any]]) -> int:
    from handoff_component.service.app import service_context, start, stop

    async def run() -> Any:
        ctx = service_context(settings_from(args))
        await start(ctx)
        try:
            return await work(ctx)
        finally:
            await stop(ctx)

    from handoff_component.contract import ContractError
    from handoff_component.service.errors import ApiError

    try:
        result = asyncio.run(run())
    except (ApiError, ContractError) as error:
        print(f"handoff-service: {error}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in COMMANDS and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "serve")
    args = build_parser().parse_args(arguments)
    if args.command == "serve":
        return serve(args)
    if args.command == "migrate":
        return _with_stores(args, lambda ctx: _done("migrated"))
    if args.command == "create-team":
        return _with_stores(
            args,
            lambda ctx: ctx.teams.create(
                name=args.name,
                display_name=args.display_name,
                webhook_url=args.webhook_url,
                webhook_secret=args.webhook_secret,
            ),
        )
    if args.command == "create-attendant":
        return _with_stores(
            args,
            lambda ctx: ctx.attendants.create(
                username=args.username,
                display_name=args.display_name or args.username,
                password=_password(args),
                role=args.role,
                team_names=args.teams,
            ),
        )
    if args.command == "seed":
        from handoff_component.service.seed import apply_seed

        return _with_stores(
            args,
            lambda ctx: apply_seed(
                args.file,
                ctx.teams,
                ctx.attendants,
                allow_demo=args.demo,
                reset_passwords=args.reset_passwords,
            ),
        )
    return 2


def _password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        return str(args.password)
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise SystemExit("handoff-service: the password must have at least 8 characters")
    return password


async def _done(message: str) -> dict[str, str]:
    return {"status": message}


if __name__ == "__main__":
    sys.exit(main())
