"""`make benchmark`: every benchmark in turn, each printing its figures (see benchmarks/README.md).

    .venv/bin/python -m benchmarks [--quick]

`--quick` shortens the runs that support it; each script can also be run on its own with its
full set of options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.project_model import ensure_model

HERE = Path(__file__).resolve().parent


def runs(quick: bool, model: Path) -> list[list[str]]:
    return [
        ["bench_scorer_quality.py"],
        ["bench_scorer_inputs.py", *(["--lengths", "1000,10000"] if quick else [])],
        ["bench_scorer.py", "--model", str(model), *(["--messages", "500"] if quick else [])],
        ["bench_rules.py"],
        ["bench_adapters.py", *(["--quick"] if quick else [])],
        ["bench_service.py", *(["--quick"] if quick else [])],
        ["bench_attachments.py", *(["--quick"] if quick else [])],
        ["bench_expected_wait.py", *(["--tickets", "20000"] if quick else ["--postgres"])],
        ["bench_handoff.py", *(["--handoffs", "30", "--turns", "30"] if quick else [])],
        ["bench_overhead.py", *(["--quick"] if quick else [])],
        ["bench_load.py", *(["--quick"] if quick else [])],
    ]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    model = ensure_model()
    failed = []
    for script, *args in runs(quick, model):
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), *args])
        if result.returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
