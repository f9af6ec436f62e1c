"""The container image, as far as it can be checked without a container engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.common import ROOT
from tests.support.feedserver import FeedServer, rss_feed

DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
LOCK_LINE_RE = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")
REQUIREMENT_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+")
ITEM = {"title": "Les FAMa et des instructeurs turcs à Bamako",
        "link": "https://news.example/fama", "guid": "fama-1",
        "description": "Formation au maniement des drones.",
        "pubDate": "Tue, 24 Nov 2026 08:00:00 GMT"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _name(requirement: str) -> str:
    match = REQUIREMENT_NAME_RE.match(requirement)
    assert match, requirement
    return match.group().lower().replace("_", "-")


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            match = LOCK_LINE_RE.match(line)
            assert match, f"{LOCK.name}: not a pin: {line!r}"
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_the_image_runs_the_bot_as_a_user_with_state_in_a_volume_and_a_health_check() -> None:
    steps = instructions()
    kinds = [kind for kind, _ in steps]
    assert steps[0][0] == "FROM" and steps[0][1].endswith("-slim")
    user = next(args for kind, args in steps if kind == "USER")
    assert user not in ("root", "0")
    assert kinds.index("USER") < kinds.index("CMD")
    assert json.loads(next(args for kind, args in steps if kind == "VOLUME")) == ["/app/state"]
    health = next(args for kind, args in steps if kind == "HEALTHCHECK")
    assert json.loads(health[health.index("CMD") + 3:]) == ["python", "-m", "bot", "health"]
    assert json.loads(next(args for kind, args in steps if kind == "CMD")) == \
        ["python", "-m", "bot", "run"]
    installs = [args for kind, args in steps if kind == "RUN" and "pip install" in args]
    assert installs == ["pip install -c requirements.lock '.[web]'"]
    for kind, args in steps:
        if kind == "COPY":
            *sources, _ = args.split()
            assert all((ROOT / source).exists() for source in sources), args
    assert "ENV TELEGRAM_BOT_TOKEN" not in DOCKERFILE.read_text(encoding="utf-8")


def test_the_lock_pins_every_dependency_and_the_tests_run_on_it() -> None:
    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    named = [*project["dependencies"], *extras["test"], *extras["web"]]
    assert {_name(r) for r in named} <= set(pins)
    # The same versions the image installs are the ones these tests run with.
    assert {name: version(name) for name in pins} == pins


@pytest.mark.slow
def test_the_images_commands_work_in_a_clean_virtual_environment(
        tmp_path: Path, feed_server: FeedServer) -> None:
    """The Dockerfile's steps, in a new virtual environment: install the project, lay out
    /app, check, health before and after a cycle. Dependencies come from this environment
    (a .pth file), as they were installed from the same lock; nothing is downloaded."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "locked-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "state", "*.egg-info", "build", "__pycache__", ".*_cache"))
    # --ignore-installed: otherwise pip first uninstalls this environment's own copy of the
    # project (the developer's editable install), whatever --prefix says.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--no-build-isolation", "--ignore-installed", "--prefix",
                    env_dir, str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "config.toml", app)
    shutil.copytree(ROOT / "watchlists", app / "watchlists")
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("SAHEL_WATCH_", "TELEGRAM_", "PYTHON"))}

    def bot(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", "bot", *argv], cwd=app, capture_output=True,
                              text=True, timeout=120, env={**environ, **extra})

    imported = subprocess.run([python, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path,
                              capture_output=True, text=True, env=environ)
    assert imported.stdout.startswith(str(env_dir)), imported.stderr  # installed, not copied
    installed = Path(imported.stdout.strip()).parent
    def subpackages(root: Path) -> list[str]:
        return sorted(p.name for p in root.iterdir() if (p / "__init__.py").exists())

    assert subpackages(installed) == subpackages(ROOT / "bot")  # the wheel holds every one
    checked = bot("check")
    assert checked.returncode == 0, checked.stderr
    assert "watchlists: 5 valid" in checked.stdout
    before = bot("health")
    assert before.returncode == 1 and "no database" in before.stdout
    # One cycle against a local feed (the shipped feeds are on the internet).
    feed_server.route("/rss", rss_feed("Le Quotidien", [ITEM]))
    local = app / "local.toml"
    local.write_text(
        'watchlists_dir = "watchlists"\n[storage]\npath = "state/sahel-watch.db"\n'
        f'[[feeds]]\nname = "Le Quotidien"\nurl = "{feed_server.url("/rss")}"\nlang = "fr"\n',
        encoding="utf-8")
    ran = bot("run", "--once", SAHEL_WATCH_CONFIG=str(local))
    assert ran.returncode == 0, ran.stderr
    assert "FAMa" in ran.stdout  # no token: the alert is printed
    after = bot("health", SAHEL_WATCH_CONFIG=str(local))
    assert after.returncode == 0, after.stdout
    assert after.stdout.startswith("healthy: last cycle finished")
    assert (app / "state" / "atom" / "fama.xml").exists()
