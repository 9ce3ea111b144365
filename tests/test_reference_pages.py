"""What the README and docs/ show exists: the generated pages are fresh, every metric is
described, every repository path named is there, and every `python main.py ...`,
`python bench/...` and `python -m ...` command names a real command, script or module and only
flags it takes."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from utils.reference_pages import DOCS, METRICS, PAGES, metric_keys

PAGES_SHOWN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
TOP = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_pages_are_fresh(name: str) -> None:
    assert (DOCS / name).read_text() == PAGES[name](), \
        f"docs/{name} is stale: run python -m utils.reference_pages"


def test_every_logged_metric_is_described() -> None:
    missing = [k for k in metric_keys() if k.split("/", 1)[1] not in METRICS]
    assert not missing


def _shown_text() -> str:
    return "\n".join(p.read_text() for p in PAGES_SHOWN)


def _paths() -> set[str]:
    """Repository paths in backticks or links: a top-level entry, then more, no placeholders."""
    found = set()
    for raw in re.findall(r"`([^`\s]+)`|\]\(([^)\s#]+)\)", _shown_text()):
        path = (raw[0] or raw[1]).rstrip(".,:;")
        first = path.split("/")[0]
        if "/" in path and first in TOP and not re.search(r"[<>*{}$]|\.\.\.", path):
            found.add(path)
    return found


def test_every_repository_path_shown_exists() -> None:
    paths = _paths()
    assert len(paths) > 30  # the scan finds them
    # (links inside docs/ are relative to docs/)
    missing = [p for p in sorted(paths) if not (ROOT / p).exists() and not (DOCS / p).exists()]
    assert not missing, f"shown but not there: {missing}"


def _anchors(page: Path) -> set[str]:
    """The #anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to
    hyphens."""
    found, in_code = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_relative_link_and_anchor_resolves() -> None:
    """Markdown links between the pages and into the repository, relative to the page that
    holds them (README.md at the root, the rest in docs/), and their #anchors."""
    bad, seen = [], 0
    for page in PAGES_SHOWN:
        links = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
        seen += len(links)
        for target in links:
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                bad.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{page.name}: {target} (no such heading)")
    assert seen > 30  # the scan finds them
    assert not bad, f"links that lead nowhere: {bad}"


def _commands() -> list[list[str]]:
    """Every `python main.py ...`, `python bench/....py ...` and `python -m x.y ...` shown."""
    out = []
    text = _shown_text().replace("\\\n", " ")
    for m in re.finditer(r"python3? (?:main\.py|bench/\w+\.py|-m [\w.]+)[^`\n|&#;)]*", text):
        try:
            out.append(shlex.split(m.group(0)))
        except ValueError:  # an unclosed quote in prose: take the words as they are
            out.append(m.group(0).split())
    return out


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from utils.cli import build_parser

    action = next(a for a in build_parser()._actions
                  if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_main_py_command_shown_exists_with_its_flags() -> None:
    from sweep.plan import build_parser as sweep_parser

    subs, sweep = _subparsers(), _options(sweep_parser())
    commands = [c for c in _commands() if c[1] == "main.py"]
    assert len(commands) > 15
    for cmd in commands:
        if len(cmd) < 3 or cmd[2].startswith("-"):
            continue
        assert cmd[2] in subs, f"{' '.join(cmd)}: no command {cmd[2]!r}"
        head, _, tail = " ".join(cmd[3:]).partition(" -- ")
        known = sweep if cmd[2] == "sweep" else _options(subs[cmd[2]])
        flags = {w.split("=")[0] for w in head.split() if w.startswith("--")}
        assert flags <= known, f"{' '.join(cmd)}: unknown {sorted(flags - known)}"
        train = _options(subs["train"])
        rest = {w.split("=")[0] for w in tail.split() if w.startswith("--")}
        assert rest <= train, f"{' '.join(cmd)}: train takes no {sorted(rest - train)}"


@pytest.mark.slow
def test_every_script_and_module_shown_runs_its_help() -> None:
    scripts = sorted({c[1] for c in _commands() if c[1].startswith("bench/")})
    modules = sorted({c[2] for c in _commands() if c[1] == "-m"})
    assert scripts
    for script in scripts:
        assert (ROOT / script).is_file(), f"{script} is shown but not there"
        done = subprocess.run([sys.executable, script, "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{script} --help: {done.stderr[-500:]}"
    for module in modules:
        if module in ("pytest", "venv", "pip"):
            continue
        assert module.startswith(("fastchat.",)) or importlib.util.find_spec(module), \
            f"python -m {module}: no such module"
