"""The package's shape: folders by domain, small modules, no cycle, SQL and HTML in one place."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.common import ROOT

PACKAGE = ROOT / "bot"
MAX_TOP_LEVEL_ENTRIES = 15
MAX_CLASS_LINES = 350
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 60
SQL_RE = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b")
SQL_HOME = PACKAGE / "storage"
HTML_RE = re.compile(r"<(b|i|a href|code|blockquote)[ >=]")
TELEGRAM_HOME = PACKAGE / "telegram"
WEB_HOME = PACKAGE / "web"


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules the module at ``path`` imports, at any depth of its code:
    ``from bot.x import y`` imports bot.x.y when that is a module, else bot.x."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found & known


def test_the_top_level_is_a_handful_of_domains() -> None:
    entries = [p for p in PACKAGE.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, sorted(p.name for p in entries)


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGE.iterdir()
                                           if (p / "__init__.py").exists()))
def test_each_subpackage_says_what_it_owns_in_one_line(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8")))
    assert doc and "\n" not in doc.strip(), package


def test_every_module_has_a_docstring() -> None:
    missing = [name for name, path in modules()
               if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert not missing


def test_no_module_class_or_function_is_too_long() -> None:
    too_long = []
    for name, path in modules():
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"module {name}")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
            if length > limit:
                too_long.append(f"{name}.{node.name}: {length} lines")
    assert not too_long


def test_no_import_cycle_between_modules() -> None:
    """Imports inside functions count too: a cycle postponed to run time is still one."""
    known = dict(modules())
    graph = {name: imports(path, set(known)) - {name} for name, path in known.items()}
    cycles = _cycles(graph)
    assert not cycles, cycles


def test_only_storage_speaks_sql() -> None:
    outside = [name for name, path in modules() if SQL_HOME not in path.parents
               and SQL_RE.search(path.read_text(encoding="utf-8"))]
    assert not outside


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def test_the_readme_table_of_subpackages_matches_the_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `bot/(\w+)/` \|", section, re.MULTILINE))
    assert listed == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    for path in re.findall(r"`(bot/[\w/]+\.py|bot/[\w/]+/)`", section):
        assert (ROOT / path).exists(), path


def test_markup_is_written_only_where_readers_meet_it() -> None:
    """Telegram messages under bot/telegram/, the web view's pages under bot/web/."""
    outside = [name for name, path in modules()
               if not {TELEGRAM_HOME, WEB_HOME} & set(path.parents)
               and HTML_RE.search(path.read_text(encoding="utf-8"))]
    assert not outside
