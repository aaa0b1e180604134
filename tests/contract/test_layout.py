"""The layer's ownership rules (docs/architecture.md, "Module map"), read from the code itself
with `ast`: which package may import which, who builds the ledger's keys, and who emits events."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "shared" / "qbo_sync"
# Each package (or top-level module) of the layer, and the layer's packages it may import
# (itself always). workflows/ may import anything: it is where domains meet.
MAY_IMPORT = {
    "core": set(),
    "events": {"core"},
    "notifications": {"core"},
    "qbo": {"core", "events"},
    "connection": {"core", "qbo"},
    "ledger": {"core", "events"},
    "company": {"core", "qbo", "connection", "events"},
    "once": {"core", "qbo", "connection"},
    # accounts: a construction invoice's fee and retainage accounts (docs/interface.md §17).
    # history: a history invoice's number among the company's hand-keyed ones (§15).
    "invoices": {
        "core",
        "qbo",
        "connection",
        "ledger",
        "events",
        "company",
        "once",
        "accounts",
        "history",
    },
    # docs/interface.md §15: the requests, the company's hand-keyed numbers, adoption's rule.
    "history": {"core", "qbo", "connection", "events"},
    # company: the kept setup says whether a transaction names its CurrencyRef.
    "payments": {"core", "qbo", "connection", "ledger", "events", "once", "company"},
    # The settings page's read side, and its HTTP routes (the errors both answer with).
    "views": {"core", "connection", "ledger", "payouts", "api"},
    "api": {"core", "connection", "views", "workflows", "support_view"},
    "accounts": {"core", "qbo", "connection"},
    "payouts": {"core", "qbo", "connection", "events", "company"},
    # The outbox reads what changed from the packages that own the items, and emits.
    "outbox": {"core", "connection", "ledger", "payouts", "notifications", "history"},
    "refunds": {"core", "qbo", "connection", "ledger", "events", "accounts", "once", "company"},
    # Issue 25: the support view reads connections, exports and payouts; its routes use it and
    # the export list; refused events are shown through the items' owners; a migration may
    # resume what waited on the shape it fixes (workflows/, where domains meet).
    "support_view": {"core", "ledger", "payouts", "views", "api"},
    "refused": {"core", "connection", "ledger", "payouts"},
    "migrations": {"core", "connection", "ledger", "workflows"},
}
LEDGER_KEY_MARKERS = ("#payments#", "skipped#", "payment:", "refund:")


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(LAYER.rglob("*.py")):
        yield path.relative_to(LAYER).as_posix(), path


def owner(relative: str) -> str:
    return relative.split("/")[0].removesuffix(".py")


def layer_imports(path: Path) -> set[str]:
    """The layer's packages a module imports, lazily and under TYPE_CHECKING included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "qbo_sync" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("relative", [name for name, _ in modules()])
def test_each_module_imports_only_the_packages_its_owner_may(relative: str) -> None:
    package = owner(relative)
    if package in ("workflows", "__init__"):
        return
    assert package in MAY_IMPORT, f"{relative}: a new package needs its row in MAY_IMPORT"
    imported = layer_imports(LAYER / relative) - {package}
    assert imported <= MAY_IMPORT[package], f"{relative} imports {imported - MAY_IMPORT[package]}"


def test_invoices_and_payments_never_import_each_other() -> None:
    for relative, path in modules():
        if owner(relative) in ("invoices", "payments"):
            other = {"invoices", "payments"} - {owner(relative)}
            assert not layer_imports(path) & other, relative


def strings(path: Path) -> Iterator[str]:
    """The string literals of a module that are not docstrings (prose may name a key)."""
    tree = ast.parse(path.read_text())
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, documented)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            yield node.value


def test_only_the_ledger_spells_its_items_keys() -> None:
    spelled = {
        relative
        for relative, path in modules()
        if any(marker in text for text in strings(path) for marker in LEDGER_KEY_MARKERS)
    }
    assert spelled == {"ledger/keys.py"}, spelled


def test_events_are_emitted_by_the_outbox_only() -> None:
    """No writer emits: each event is derived from the write that changed the state."""
    emitters = {
        relative
        for relative, path in modules()
        if "notifications" in layer_imports(path) and owner(relative) != "notifications"
    }
    assert emitters == {"outbox.py"}


@pytest.mark.parametrize(
    "package",
    sorted(p.name for p in LAYER.iterdir() if p.is_dir() and p.name != "__pycache__"),
)
def test_each_package_says_what_it_owns(package: str) -> None:
    if package == "api":  # its one line is agreed with the settings-page split; modules say more
        assert ast.get_docstring(ast.parse((LAYER / package / "__init__.py").read_text()))
        return
    docstring = ast.get_docstring(ast.parse((LAYER / package / "__init__.py").read_text()))
    assert docstring and len(docstring.split()) >= 20, f"{package}/__init__.py"


def test_make_test_runs_every_test_directory() -> None:
    """`make test` runs the paths of the Makefile's TEST_PATHS: a directory of tests outside
    them would never run in CI."""
    root = LAYER.parents[1]
    makefile = (root / "Makefile").read_text()
    paths = makefile.split("TEST_PATHS :=", 1)[1].split("\n", 1)[0].split()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(TEST_PATHS)" in recipe, recipe
    tests = root / "tests"
    expected = {f"tests/{d.name}" for d in tests.iterdir() if d.is_dir() and d.name != "flows"}
    expected |= {f"tests/flows/{d.name}" for d in (tests / "flows").iterdir() if d.is_dir()}
    expected |= {f"tests/flows/{f.name}" for f in (tests / "flows").glob("test_*.py")}
    ignored = {"tests/support", "tests/__pycache__", "tests/flows/__pycache__"}
    unrun = {d for d in expected - ignored if not any(_within(d, path) for path in paths)}
    assert unrun == set(), f"not under TEST_PATHS {paths}: {sorted(unrun)}"


def _within(directory: str, path: str) -> bool:
    return directory == path.rstrip("/") or directory.startswith(path.rstrip("/") + "/")
