"""The shape of the code, checked: which part of authgate may import which, no import circles,
and tests that share code only through `tests/support`.

Every import counts: at module level, inside functions, and under `TYPE_CHECKING` (a
type-only import is still an arrow a reader has to follow). A part is a top-level package or
module of `authgate`; `__main__` modules are entry points. docs/architecture.md explains the
layers; raising an arrow here is a decision to explain there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TESTS = ROOT / "tests"

# Parts that hold state or do I/O below the use cases; use cases and the runtime may use them all.
INFRASTRUCTURE = {
    "abuse",
    "captcha",
    "delivery",
    "errors",
    "events",
    "oauth",
    "observability",
    "scope",
    "security",
    "settings",
    "storage",
    "wire",
}
USE_CASES = INFRASTRUCTURE | {"core", "signin", "methods", "services"}

# part -> the parts it may import. Read downwards: nothing below imports what is above it.
ALLOWED: dict[str, set[str]] = {
    # entry points and the edge
    "entry": {"cli"},
    "cli": USE_CASES | {"app", "cli_import", "connection", "runtime", "serving", "ui"},  # serve checks the templates
    "cli_import": USE_CASES | {"runtime"},
    "serving": {"app", "observability", "settings"},
    "app": {"http", "ui", "runtime", "observability", "settings", "authgate"},
    "connection": {"http", "errors"},
    "settings_reference": {"settings"},
    "http": (USE_CASES - {"storage"}) | {"runtime"},  # the edge parses, calls a use case, serialises
    # the second edge, the hosted pages: as http/, and it shares http/'s cookies, CSRF origins and limits
    "ui": (USE_CASES - {"storage"}) | {"runtime", "http", "authgate"},
    # the composition root: builds everything below, imported by nothing below
    "runtime": USE_CASES,
    # use cases
    "services": INFRASTRUCTURE | {"core", "signin", "methods"},
    "methods": INFRASTRUCTURE | {"core", "signin"},
    "signin": INFRASTRUCTURE | {"core"},
    "core": INFRASTRUCTURE - {"events", "scope", "wire"},
    # infrastructure
    "delivery": {"abuse", "errors", "events", "observability", "security", "settings", "storage", "wire"},
    "captcha": {"abuse", "errors", "observability", "settings"},
    "oauth": {"errors", "observability", "security", "settings"},
    "storage": {"errors", "events", "observability", "scope", "security", "settings"},
    "settings": {"abuse", "errors", "security"},
    "abuse": {"errors", "observability"},
    "security": {"errors", "client"},  # client._origins: one origin reader for both sides
    "observability": set(),
    # leaves
    "errors": set(),
    "events": set(),
    "scope": set(),
    "wire": set(),
    # the library other services install: nothing of the server
    "client": set(),
    "authgate": set(),
}


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    names = module.split(".")
    if names[-1] == "__main__":
        return "entry"
    return names[1] if len(names) > 1 else "authgate"


def imports_of(path: Path, module: str, known: set[str] | None) -> Iterator[tuple[str, int]]:
    """Every module `path` imports (absolute names), with the line, wherever the import is.
    `from a import b` also yields `a.b` when that is a module in `known` (always, without it)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            modules = [f"{base}.{a.name}" for a in node.names if known is None or f"{base}.{a.name}" in known]
            # `from authgate.signin import gate` imports the module `gate`, not the package's names
            if len(modules) < len(node.names) or known is None:
                yield base, node.lineno
            for target in modules:
                yield target, node.lineno


def source_graph() -> dict[str, list[tuple[str, int]]]:
    files = {module_name(p, SRC): p for p in (SRC / "authgate").rglob("*.py") if "migrations" not in p.parts}
    known = set(files)
    return {
        name: [(target, line) for target, line in imports_of(path, name, known) if target in known]
        for name, path in files.items()
    }


def upward_imports(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        here = part_of(module)
        assert here in ALLOWED, f"{module}: the part {here!r} is not in ALLOWED; place it in a layer"
        for target, line in targets:
            there = part_of(target)
            if there != here and there not in ALLOWED[here]:
                found.append(f"{module}:{line} imports {target} ({here} -> {there})")
    return found


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Every import circle between modules (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _ in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def part_cycles() -> list[tuple[str, str]]:
    """Two parts allowed to import each other would be one circle waiting to happen."""
    return sorted((a, b) for a, targets in ALLOWED.items() for b in targets if a < b and a in ALLOWED.get(b, set()))


def test_every_import_points_down() -> None:
    assert upward_imports(source_graph()) == []


def test_no_import_circles_between_modules() -> None:
    assert cycles(source_graph()) == []


def test_the_allowed_arrows_form_no_circle() -> None:
    assert part_cycles() == []


def test_an_upward_import_is_caught() -> None:
    """The check itself: a method importing the composition root fails it, and so does a circle."""
    graph = {"authgate.methods.code.factor": [("authgate.runtime.root", 3)], "authgate.runtime.root": []}
    assert upward_imports(graph) == [
        "authgate.methods.code.factor:3 imports authgate.runtime.root (methods -> runtime)"
    ]
    graph = {
        "authgate.signin.gate": [("authgate.signin.one_time", 1)],
        "authgate.signin.one_time": [("authgate.signin.gate", 9)],
    }
    assert cycles(graph) == [["authgate.signin.gate", "authgate.signin.one_time"]]


def test_type_only_and_function_level_imports_count(tmp_path: Path) -> None:
    module = tmp_path / "authgate" / "captcha" / "suspicion.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from authgate.runtime.root import Runtime\n"
        "def f():\n    from authgate.services import accounts\n"
    )
    known = {"authgate.runtime.root", "authgate.services", "authgate.services.accounts"}
    found = {target for target, _ in imports_of(module, "authgate.captcha.suspicion", known)}
    assert {"authgate.runtime.root", "authgate.services.accounts"} <= found


def test_tests_share_code_only_through_support() -> None:
    """A test module imports no conftest and no other test module: fixtures come from pytest,
    shared helpers from `tests/support`."""
    offending = []
    for path in sorted(TESTS.rglob("*.py")):
        module = module_name(path, ROOT)
        for target, line in imports_of(path, module, None):
            last = target.rsplit(".", 1)[-1]
            if target.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert offending == []
