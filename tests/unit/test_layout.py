"""Every package of the app sits in a layer of the import contracts (pyproject's
[tool.importlinter], run by `make test`), so a new domain cannot grow outside them."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

from app.accounts import admin_pages, pages
from app.domains import DOMAINS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["type"]: contract for contract in config["contracts"]}


def _names(layer: str) -> set[str]:
    return {name.strip() for name in re.split(r"[|:]", layer)}


def test_every_package_and_module_of_the_app_has_a_layer() -> None:
    code = {f"app.{p.name}" for p in APP.iterdir() if (p / "__init__.py").exists()}
    code |= {f"app.{p.stem}" for p in APP.glob("*.py") if p.stem != "__init__"}
    layered = set().union(*(_names(layer) for layer in _contracts()["layers"]["layers"]))
    assert code == layered


def test_the_domains_are_independent_and_assembled() -> None:
    layers = _contracts()["layers"]["layers"]
    domains = _names(layers[1])
    assert "|" in layers[1] or len(domains) == 1, "the domains' layer lists independent siblings"
    assert set(_contracts()["independence"]["modules"]) == domains
    assert domains <= {f"app.{name}" for name in DOMAINS}


# No module of the project (the app, its tests, benches and tools) past this many lines: a longer
# one is split along a seam its domain already has (STYLE.md), by use case, not in arbitrary halves.
MAX_LINES = 600
# Route modules of the domain layout.
ROUTE_MODULES = {"api.py", "pages.py", "admin_pages.py"}


def test_no_module_of_the_project_is_past_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in ("app", "tests", "bench", "tools", "migrations")
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_login_path_commits_nothing_by_hand() -> None:
    """An attempt is counted in a unit of work of its own (app.core.uow), not a session that
    the login path commits itself."""
    for name in ("logins.py", "attempts.py"):
        source = (APP / "accounts" / name).read_text(encoding="utf-8")
        assert ".commit()" not in source and ".rollback()" not in source, name
    assert "unit_of_work()" in (APP / "accounts" / "logins.py").read_text(encoding="utf-8")


def test_each_domain_has_the_layouts_route_modules() -> None:
    for name in DOMAINS:
        package = APP / name
        routes = {path.name for path in package.glob("*.py") if "route_handlers = [" in path.read_text()}
        stray = {f"app/{name}/{module}" for module in routes - ROUTE_MODULES}
        assert not stray, f"routes outside api.py, pages.py and admin_pages.py: {sorted(stray)}"


def test_the_home_page_is_among_the_pages_for_everyone() -> None:
    """`/` is a page for everyone (accounts' pages.py), not one of the admin's pages."""
    assert "/" in {path for handler in pages.route_handlers for path in handler.paths}
    assert not any("/" in handler.paths for handler in admin_pages.route_handlers)


def _imports_inside_functions(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def test_each_import_inside_a_function_says_why() -> None:
    """No import sits inside a function to dodge a cycle, in the app or its tests; the few lazy
    imports of heavy or optional modules carry a comment saying why (on the line, or on the lines
    just above)."""
    silent = []
    for path in [*APP.rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _imports_inside_functions(ast.parse("\n".join(lines))):
            above = lines[max(0, node.lineno - 4) : node.lineno]
            if not any("#" in line for line in above):
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert silent == []


def test_the_assembly_loads_every_domain_by_the_same_module_names() -> None:
    """app.domains finds what a domain adds by module name (`app.<domain>.jobs`, `.answers`,
    `.partner_office`, ...) for every domain alike; it imports no domain's module by name."""
    tree = ast.parse((APP / "domains.py").read_text(encoding="utf-8"))
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "app" and len(parts) > 1 and parts[1] in DOMAINS and parts[1] != "core":
                named.add(node.module)
        elif isinstance(node, ast.Import):
            named |= {a.name for a in node.names if a.name.split(".")[:1] == ["app"] and "core" not in a.name}
    assert named == set()


def test_each_domains_ledger_words_live_in_its_ledger_words_module() -> None:
    """How a transfer kind reads is registered (app.ledger.words.renders) in the domain's
    ledger_words.py, where app.domains.load_ledger_words finds it, never beside its use case."""
    elsewhere = [
        str(path.relative_to(ROOT))
        for path in APP.rglob("*.py")
        if path.name != "ledger_words.py"
        and path.parent.name != "ledger"
        and re.search(r"\bwords\.renders\(", path.read_text(encoding="utf-8"))
    ]
    assert elsewhere == []


def test_the_repositorys_top_level_holds_no_screenshot() -> None:
    """Screenshots of pages taken while working on them were committed at the top level beside
    pyproject.toml: the kept ones live in docs/screenshots/, the browser tests' in test-artifacts/."""
    listed = subprocess.run(
        ["git", "ls-files", "--", "*.png", "*.jpg", "*.jpeg"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [name for name in listed if "/" not in name] == []
