"""The layer rules of docs/architecture.md, checked on every module of the package.

- `core/` and `contract/` import no framework: no Rasa, no Sanic, no database, no HTTP client;
  the contract imports nothing but the standard library (and itself); `signed_http` (the
  signed POSTs both sides send) only aiohttp and the contract;
- only `bot/` imports `rasa` or `rasa_sdk`; the service never does;
- inside the package each layer imports only the layers below it (`core` and `contract` at the
  bottom, then `bot` and `service` side by side, then `cli`);
- no two modules import each other, even through others;
- nobody imports a module by the path it had before it moved (`moved_modules`).

Every import statement counts, also those inside functions and under `TYPE_CHECKING`: a lazy
import of Rasa in the service is as wrong as an eager one. A second check imports every module
outside `bot/` in a fresh interpreter, which also catches a third-party library that drags Rasa in.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from handoff_component.moved_modules import MOVED

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "handoff_component"

RASA = frozenset({"rasa", "rasa_sdk", "tensorflow"})
FRAMEWORKS = RASA | frozenset(
    {
        "sanic",
        "sanic_routing",
        "sqlalchemy",
        "alembic",
        "aiosqlite",
        "asyncpg",
        "psycopg2",
        "sqlite3",
        "redis",
        "aiohttp",
        "requests",
        "socketio",
        "engineio",
        "pika",
        "aio_pika",
    }
)
# Which of the package's own layers each layer may import.
ALLOWED_LAYERS = {
    "contract": {"contract"},
    "core": {"core", "contract"},
    # Signed POSTs and the retry rule, shared by Rasa's side and the service.
    "signed_http": {"signed_http", "contract"},
    "bot": {"bot", "signed_http", "core", "contract"},
    "service": {"service", "signed_http", "core", "contract"},
    "cli": {"cli", "bot", "core", "contract"},
    "root": {"root", "cli", "bot", "core", "contract"},
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(PROJECT)}:{self.line} imports {self.module}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ALLOWED_LAYERS:
        return parts[1]
    return "root"


def imports_of(path: Path) -> Iterator[Import]:
    """Every module an import statement of `path` names, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            yield Import(path, node.lineno, module)
            for alias in node.names:  # `from handoff_component import contract`
                candidate = f"{module}.{alias.name}"
                if _is_package_module(candidate) or candidate in MOVED:
                    yield Import(path, node.lineno, candidate)


def _is_package_module(name: str) -> bool:
    if not name.startswith("handoff_component."):
        return False
    relative = Path(*name.split("."))
    return (PROJECT / relative).is_dir() or (PROJECT / relative).with_suffix(".py").is_file()


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer_violations(imported: Import) -> list[str]:
    layer = layer_of(module_name(imported.path))
    top = imported.module.split(".")[0]
    found = []
    if top in RASA and layer != "bot":
        found.append(f"{imported}: only bot/ imports Rasa")
    if top in FRAMEWORKS and layer in ("core", "contract"):
        found.append(f"{imported}: {layer}/ imports no framework")
    if layer == "contract" and top not in sys.stdlib_module_names and top != "handoff_component":
        found.append(f"{imported}: the contract imports only the standard library")
    if top == "handoff_component" and imported.module != "handoff_component":
        target = layer_of(imported.module)
        if target not in ALLOWED_LAYERS[layer]:
            found.append(f"{imported}: {layer} may import only {sorted(ALLOWED_LAYERS[layer])}")
    return found


def test_every_module_of_the_package_keeps_to_its_layer() -> None:
    modules = package_modules()
    assert {layer_of(module_name(path)) for path in modules} == set(ALLOWED_LAYERS)

    violations = [
        violation
        for path in modules
        for imported in imports_of(path)
        for violation in layer_violations(imported)
    ]

    assert violations == [], "\n".join(violations)


def test_no_two_modules_of_the_package_import_each_other_even_indirectly() -> None:
    """Cycles make import order matter and hide which concept is built on which."""
    names = {module_name(path) for path in package_modules()}
    graph = {
        module_name(path): {
            imported.module
            for imported in imports_of(path)
            if imported.module in names and imported.module != module_name(path)
        }
        for path in package_modules()
    }

    cycles = [cycle for start in sorted(graph) for cycle in _cycles_from(start, graph)]

    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def _cycles_from(start: str, graph: dict[str, set[str]]) -> list[list[str]]:
    """Import paths from `start` back to `start` (each cycle is found from its smallest name)."""
    found: list[list[str]] = []
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for imported in sorted(graph[module]):
            if imported == start:
                found.append([*path, start])
            elif imported > start and imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return found


def test_nothing_in_the_repository_imports_a_module_by_its_old_path() -> None:
    sources = [
        path
        for folder in ("handoff_component", "tests", "benchmarks", "scripts", "actions")
        for path in sorted((PROJECT / folder).rglob("*.py"))
    ]

    stale = [
        f"{imported}: use {MOVED[imported.module]}"
        for path in sources
        for imported in imports_of(path)
        if imported.module in MOVED
    ]

    assert stale == [], "\n".join(stale)


def test_importing_everything_outside_bot_loads_no_rasa_and_the_core_no_framework() -> None:
    """Fresh interpreters, so a module imported by an earlier test cannot hide a violation."""
    names = [
        module_name(path)
        for path in package_modules()
        if layer_of(module_name(path)) != "bot" and "migrations" not in path.parts
    ]
    bottom = [name for name in names if layer_of(name) in ("core", "contract")]

    loaded_by_all = _top_level_modules_after_importing(names)
    loaded_by_bottom = _top_level_modules_after_importing(bottom)

    assert sorted(loaded_by_all & RASA) == []
    assert sorted(loaded_by_bottom & FRAMEWORKS) == []


def _top_level_modules_after_importing(names: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_scores_key_in_the_parse_data_is_written_only_in_the_contract() -> None:
    """`parse_data["handoff"]` is `contract.SCORE_KEY`: every other module names the constant
    (a subscript, a `.get` or an `in` test with the literal is a second definition)."""
    written_out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "contract" / "scores.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            keys: list[ast.expr] = []
            if isinstance(node, ast.Subscript):
                keys.append(node.slice)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "get" and node.args:
                    keys.append(node.args[0])
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
                keys.append(node.left)
            elif isinstance(node, ast.Dict):
                keys.extend(
                    key
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(value, ast.Subscript)  # {"handoff": parse_data["handoff"]}
                    and key is not None
                )
            written_out.extend(
                f"{path.relative_to(PROJECT)}:{key.lineno}"
                for key in keys
                if isinstance(key, ast.Constant) and key.value == "handoff"
            )
    assert written_out == []
