"""The project's own set-up: finding Python 3.10, the model cache, lint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.project_model import model_inputs_hash

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_find_python_names_what_to_install_when_no_python_310_exists(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path) + ":/nonexistent", "HOME": str(tmp_path)}

    result = subprocess.run(
        ["/bin/sh", str(PROJECT_DIR / "scripts" / "find-python")],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert "Python 3.10 not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr


def test_find_python_accepts_an_explicit_interpreter_only_if_it_is_310(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}

    found = subprocess.run(
        ["/bin/sh", str(PROJECT_DIR / "scripts" / "find-python")],
        env=env,
        capture_output=True,
        text=True,
    )
    wrong = subprocess.run(
        ["/bin/sh", str(PROJECT_DIR / "scripts" / "find-python")],
        env={**os.environ, "PYTHON": "/bin/false"},
        capture_output=True,
        text=True,
    )

    assert found.returncode == 0 and found.stdout.strip() == sys.executable
    assert wrong.returncode == 1 and "not a working Python 3.10" in wrong.stderr


def test_model_hash_changes_with_training_data_and_not_otherwise(tmp_path: Path) -> None:
    for name in ("config.yml", "domain.yml", "data"):
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    before = model_inputs_hash(tmp_path)
    (tmp_path / "README.md").write_text("not a training input")
    unchanged = model_inputs_hash(tmp_path)

    with open(tmp_path / "data" / "nlu.yml", "a") as nlu:
        nlu.write("\n")
    after = model_inputs_hash(tmp_path)

    assert before == unchanged
    assert after != before


def test_ruff_finds_nothing_to_fix() -> None:
    ruff = Path(sys.executable).parent / "ruff"

    check = subprocess.run([ruff, "check", "."], cwd=PROJECT_DIR, capture_output=True, text=True)
    fmt = subprocess.run(
        [ruff, "format", "--check", "."], cwd=PROJECT_DIR, capture_output=True, text=True
    )

    assert check.returncode == 0, check.stdout + check.stderr
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_finds_no_type_errors() -> None:
    """The whole package type-checks with [tool.mypy] of pyproject.toml, as `make lint` runs it."""
    mypy = Path(sys.executable).parent / "mypy"

    result = subprocess.run([mypy], cwd=PROJECT_DIR, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_data_file_is_tracked_by_git() -> None:
    """A data file the package loads at run time (weights, lexicons, the Inbox) that git ignores
    works in the checkout that made it and is missing from every clone and every wheel built
    from one: `models/` in .gitignore once hid the learned scorers' weights this way."""
    if not (PROJECT_DIR / ".git").exists():
        return  # an installed copy, not a checkout: nothing to compare against
    package = PROJECT_DIR / "handoff_component"
    on_disk = {
        str(path.relative_to(PROJECT_DIR))
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=PROJECT_DIR,
        input="\n".join(sorted(on_disk)),
        capture_output=True,
        text=True,
    ).stdout.split()

    assert ignored == []


def test_test_modules_have_unique_names() -> None:
    """The test folders are not packages, so pytest imports each module by its file name: two
    `test_x.py` in different folders stop the whole suite at collection, whichever runs first."""
    seen: dict[str, Path] = {}
    for path in sorted((PROJECT_DIR / "tests").rglob("test_*.py")):
        assert path.name not in seen, f"{path} and {seen[path.name]} share a module name"
        seen[path.name] = path
