"""Command line of the plugin: `python -m handoff_component score|rules|doctor|init ...`.

Each subcommand lives in its own module of `handoff_component/cli/` with `add_parser(subparsers)`;
this file only wires them, so the CLI never imports Rasa unless a subcommand needs a trained model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """All subcommands, registered by their own modules."""
    from handoff_component.cli import doctor, init, rules, score

    parser = argparse.ArgumentParser(prog="python -m handoff_component")
    subparsers = parser.add_subparsers(dest="command", required=True)
    score.add_parser(subparsers)
    rules.add_parser(subparsers)
    doctor.add_parser(subparsers)
    init.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
