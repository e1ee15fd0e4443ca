"""`python -m handoff_component init [BOT_DIR]`: write what the plugin needs into an existing bot.

Adding the plugin by hand to a bot somebody else wrote took 9 files and +174 lines, with three
traps that nothing reported. `init` reads the bot (config.yml, its domain file or directory,
data/, endpoints.yml, credentials.yml, its actions) and writes the rest: handoff.yml with the bot's
own intents, service.yml with its team, the plugin's domain entries, the config, endpoints and
credentials blocks, the import of the plugin's action, and the bot's own hand-off stories
answered by the plugin's action. Every change to a file is shown as a diff first and written only
when confirmed (`--yes` for scripts, `--dry-run` to only look); a file the bot already has is
edited, never replaced, and a second run changes nothing. `doctor` runs at the end and says what
is left.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from handoff_component.cli import doctor
from handoff_component.cli.bot_setup import Change, plan
from handoff_component.cli.yaml_text import YamlEditError


def render_diff(change: Change, root: Path) -> str:
    """A unified diff of one change, the way `git diff` shows a new file or an edited one."""
    name = change.path.relative_to(root).as_posix()
    before = (change.before or "").splitlines(keepends=True)
    after = change.after.splitlines(keepends=True)
    source = "/dev/null" if change.before is None else f"a/{name}"
    return "".join(difflib.unified_diff(before, after, source, f"b/{name}", n=2))


def _confirm(question: str, ask: Callable[[str], str]) -> bool:
    try:
        return ask(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run(
    args: argparse.Namespace, out: TextIO | None = None, ask: Callable[[str], str] = input
) -> int:
    out = out or sys.stdout
    root = Path(args.bot_dir).resolve()
    if not root.is_dir():
        print(f"{args.bot_dir}: not a directory", file=sys.stderr)
        return 2
    try:
        result, choices = plan(root, args.domain, args.team)
    except YamlEditError as error:
        print(f"init: cannot edit the bot's files safely: {error}; nothing written", file=out)
        return 2
    for note in result.notes:
        print(f"note: {note}", file=out)
    if not result.changes:
        print(f"{root.name}: nothing to change, the bot has what init writes", file=out)
    else:
        for change in result.changes:
            what = "new file" if change.before is None else "edit"
            print(
                f"\n# {change.path.relative_to(root)} ({what}): {'; '.join(change.reasons)}",
                file=out,
            )
            print(render_diff(change, root), end="", file=out)
        count = len(result.changes)
        if args.dry_run:
            print(f"\ndry run: {count} files would change, nothing written", file=out)
            _print_manual(result.manual, out)
            return 1
        if not args.yes and not _confirm(f"\nWrite these changes to {count} files? [y/N] ", ask):
            print("nothing written", file=out)
            return 1
        for change in result.changes:
            try:
                change.path.parent.mkdir(parents=True, exist_ok=True)
                change.path.write_text(change.after, encoding="utf-8")
            except OSError as error:
                print(f"init: cannot write {change.path}: {error.strerror}", file=out)
                return 2
        print(f"wrote {count} files (handoff action: {choices.action_name})", file=out)
    _print_manual(result.manual, out)
    print("\npython -m handoff_component doctor:", file=out)
    return doctor.run(argparse.Namespace(bot_dir=str(root), domain=args.domain), out)


def _print_manual(manual: list[str], out: TextIO) -> None:
    for step in manual:
        print(f"left to you: {step}", file=out)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write what the plugin needs into an existing bot (shows a diff, asks first)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("bot_dir", nargs="?", default=".", help="the bot's project directory")
    parser.add_argument("--domain", help="domain file or directory, relative to BOT_DIR")
    parser.add_argument(
        "--team", default="support", help="the team the rules hand over to (default: support)"
    )
    parser.add_argument("--yes", action="store_true", help="write without asking (for scripts)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only show the diff; exit 1 if anything would change",
    )
    parser.set_defaults(run=run)


__all__ = ["add_parser", "render_diff", "run"]
