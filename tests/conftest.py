"""Shared pytest setup for rivet's tests (run by `make test`).

Paths: the repository is the parent of tests/; the build directory is $O
(as `make O=dir test` exports it) or build/, relative to the repository.
Logs of failed tests go to <build>/test-logs/.

Tests report notes (skipped KTAP cases, boot times) through the `notes`
fixture; they are printed in a "rivet notes" section before pytest's
summary line.
"""

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("O") or "build")
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
LOG_DIR = BUILD / "test-logs"

# scripts/ktap.py is the one KTAP parser; tests import it as `ktap`.
sys.path.insert(0, str(ROOT / "scripts"))

_notes = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long QEMU boots (many harts); deselect with -m 'not slow'")
    config.addinivalue_line("markers", "qemu: boots the kernel in QEMU")
    config.addinivalue_line("markers", "host: runs a host test binary")


def log_name(nodename):
    """A file name for a test id: 'test_boot[smp8-512M]' -> 'test_boot-smp8-512M'."""
    return re.sub(r"[^\w.+-]+", "-", nodename).strip("-")


def save_log(nodename, text, suffix=".log"):
    """Write @text to <build>/test-logs/<test>.log; return the path shown to users."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    path = LOG_DIR / (log_name(nodename) + suffix)
    path.write_text(text, encoding="utf-8", errors="replace")
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


@pytest.fixture
def log_path(request):
    """Function (text) -> path: save this test's log, removing a stale one first."""
    node = request.node
    stale = LOG_DIR / (log_name(node.name) + ".log")
    if stale.exists():
        stale.unlink()

    def save(text):
        node.rivet_log_saved = True
        return save_log(node.name, text)
    return save


@pytest.fixture
def notes(request):
    """Function (text): add a line to the notes printed at the end of the run."""
    return lambda text: _notes.append("%s: %s" % (request.node.name, text))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Save the logs a failed test collected but did not save itself.

    A test (or fixture) appends functions returning log text to
    item.rivet_transcripts; see tests/system/conftest.py.
    """
    outcome = yield
    rep = outcome.get_result()
    sources = getattr(item, "rivet_transcripts", None)
    if rep.when != "call" or not rep.failed or not sources:
        return
    if getattr(item, "rivet_log_saved", False):
        return
    path = save_log(item.name, "\n".join(f() for f in sources))
    rep.sections.append(("rivet", "console log saved to %s" % path))


def pytest_terminal_summary(terminalreporter):
    if _notes:
        terminalreporter.section("rivet notes")
        for line in _notes:
            terminalreporter.write_line(line)
