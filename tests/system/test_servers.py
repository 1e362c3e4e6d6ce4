"""The servers without the shell: init runs a test program once after the
servers (`-- names pager test=pagertest`), then stops everything and exits
with its status, which the kernel prints (docs/servers.md).

pagertest (the pager and the name server from a client's side: a
pager-backed region faulted from 8 threads on every hart, evicted while
other threads fault, shared with another process; one page faulted by 8
threads at once, asked of the pager once; a child killed while its
threads wait for that) runs on 1, 4 and 8
harts with split page-table locks and on 4 with a single lock; crashtest
(a crashing server restarted by init while its clients get errors) on 4;
init copes with a program that is not there, and refuses to run twice.
"""
import re

import pytest

from test_boot import check_boot, check_ktap, verdict
from test_user import exit_status

pytestmark = pytest.mark.qemu

# Faults served across harts are slow on a loaded host (milliseconds each).
TIMEOUT = 240


def servers_boot(boot, harts, append, cases, log_path, notes, what):
    b = boot(harts, "256M", append=append, timeout=TIMEOUT)
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    if res.passed < cases:
        problems.append("only %d cases passed, expected %d"
                        % (res.passed, cases))
    if exit_status(b) != 0:
        problems.append("init's exit status %r, expected 0 (the test "
                        "program's)" % exit_status(b))
    if not b.grep(r"^init: \S+ \(pid \d+\) ended with status 0; shutting "
                  r"down$"):
        problems.append("no 'init: ... ended with status 0; shutting down'")
    verdict(b, problems, log_path, "%s (%s)" % (what, res.summary()))
    return b


@pytest.mark.parametrize("harts,mode", [(1, "split"), (4, "split"),
                                        (4, "single"), (8, "split")])
def test_pagertest(boot, harts, mode, log_path, notes):
    """Every pagertest case passes; only its child that faults beyond the
    object is killed with a report line (the child it kills while its
    threads fault prints none)."""
    what = "pagertest on %d harts, ptlock=%s" % (harts, mode)
    b = servers_boot(boot, harts, "ptlock=%s -- names pager test=pagertest"
                     % mode, 15, log_path, notes, what)
    kills = b.grep(r"^proc: killed")
    if len(kills) != 1 or "(pagertest)" not in kills[0]:
        verdict(b, ["kill reports %r, expected one (pagertest)" % kills],
                log_path, what)
    for line in b.grep(r"pager faults|eviction passes|one page by|after "
                       r"its kill"):
        notes("%s: %s" % (what, line.strip(" #")))


def test_crashtest(boot, log_path, notes):
    """crashy crashes twice while clients call it; init restarts it each
    time with a doubled back-off; clients get -E_PEER, never hang; an
    orphan is reaped by init."""
    b = servers_boot(boot, 4, "-- names crashy test=crashtest", 6,
                     log_path, notes, "crashtest on 4 harts")
    problems = []
    for regex in (r"^init: crashy \(pid \d+\) ended with status -1 "
                  r"\(killed or crashed\); restarting it in 100 ms",
                  r"^init: crashy \(pid \d+\) ended with status 7; "
                  r"restarting it in 200 ms",
                  r"^init: restarted crashy as pid \d+$",
                  r"^init: reaped hello \(pid \d+\), whose parent had "
                  r"ended: status 0$"):
        if not b.grep(regex):
            problems.append("no line matching %r" % regex)
    verdict(b, problems, log_path, "crashtest's init lines")


def test_init_missing_program(boot, log_path):
    """A name init cannot find is reported and skipped; the rest runs."""
    b = boot(2, "256M", append="-- names nosuch test=hello")
    problems = check_boot(b, 2)
    for regex in (r"^init: no program 'nosuch' in the boot archive$",
                  r"^hello from user space, pid \d+$",
                  r"^init: programs \(from the command line\): names "
                  r"nosuch test=hello$"):
        if not b.grep(regex):
            problems.append("no line matching %r" % regex)
    if exit_status(b) != 0:
        problems.append("exit status %r, expected hello's 0"
                        % exit_status(b))
    verdict(b, problems, log_path, "init with a missing program")


def test_init_is_alone(boot, log_path):
    """init refuses to run as anything but the first process."""
    b = boot(1, "128M", append="-- names test=init")
    problems = check_boot(b, 1)
    if not b.grep(r"^init: already running \(I am pid \d+, not 1\)$"):
        problems.append("the second init did not refuse")
    if exit_status(b) != 2:
        problems.append("exit status %r, expected the second init's 2"
                        % exit_status(b))
    verdict(b, problems, log_path, "init started twice")


FLOOD_RE = re.compile(r"^consoletest: flood (\d+)/(\d+) "
                      r"abcdefghijklmnopqrstuvwxyz0123456789$")


@pytest.mark.parametrize("harts", [2, 4])
def test_console_flush(boot, harts, log_path, notes):
    """consoletest's cases pass (CONSOLE_FLUSH answers, bad requests get
    errors), then it prints a flood of numbered lines and ends, and init
    shuts down at once: every line must reach the screen, in order,
    before init's last lines. The console server holds much of the flood
    (taken from the kernel's log, not printed yet) when init decides to
    kill it; init's CONSOLE_FLUSH is what saves it."""
    what = "consoletest on %d harts" % harts
    b = servers_boot(boot, harts, "-- names console test=consoletest", 4,
                     log_path, notes, what)
    lines = [line.strip() for line in b.lines]
    problems = []
    flood = [FLOOD_RE.match(line) for line in lines]
    got = [int(m.group(1)) for m in flood if m]
    totals = {int(m.group(2)) for m in flood if m}
    if len(totals) != 1:
        problems.append("flood lines of totals %r, expected one" % totals)
    else:
        n = totals.pop()
        if got != list(range(1, n + 1)):
            lost = sorted(set(range(1, n + 1)) - set(got))
            problems.append("flood lines %d of %d, lost %s%s" % (
                len(got), n, lost[:20], "..." if len(lost) > 20 else ""))
            if not lost:
                problems.append("flood lines out of order: %r" % got)
    cut = [line for line in lines
           if "consoletest: flood" in line and not FLOOD_RE.match(line)
           and not line.startswith("consoletest: flood done")]
    if cut:
        problems.append("flood lines cut short: %r" % cut[:5])
    order = [r"^consoletest: flood done, \d+ lines$",
             r"^init: consoletest \(pid \d+\) ended with status 0; "
             r"shutting down$",
             r"^init: shutting down$",
             r"^init: exited with status 0$"]
    at = -1
    for regex in order:
        found = [i for i, line in enumerate(lines) if re.match(regex, line)]
        if not found:
            problems.append("no line matching %r" % regex)
        elif found[0] < at:
            problems.append("%r before the line it follows" % regex)
        else:
            at = found[0]
    if b.grep(r"^init: no flush from the console server"):
        problems.append("init: no flush from the console server")
    verdict(b, problems, log_path, what + ": the flood before shutdown")
