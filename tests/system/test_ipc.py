"""IPC: the userland KTAP suite `ipctest` (handles, calls, notifications,
partners that die) on 1, 4 and 8 harts in both page-table locking modes.

ipctest starts `ipcpeer` children for its cross-process cases, so a run
also exercises spawn with a handle, kill of a process blocked in IPC, the
wake-ups of the other side, and pager-backed regions: faulted from every
hart, evicted while other threads fault, served to another process, and a
pager that fails its client (killed with one report line).
"""
import re

import pytest

from conftest import SCALE
from test_boot import check_boot, check_ktap, verdict
from test_user import exit_status


def ipctest_problems(b, harts, notes):
    """What is wrong with an ipctest boot on @harts: the boot, the KTAP
    results (at least 25 cases passed), the exit status. Also returns the
    KTAP results."""
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    if res.passed < 25:
        problems.append("only %d ipctest cases passed" % res.passed)
    if exit_status(b) != 0:
        problems.append("ipctest exit status %r, expected 0"
                        % exit_status(b))
    return problems, res


@pytest.mark.parametrize("harts", [1, 4, 8])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_ipctest(boot, harts, mode, log_path, notes):
    """Every ipctest case passes; nothing is killed; the kernel lives."""
    # On 8 harts (over-subscribed: 8 vCPUs on this host's 2 cores) a run
    # took 25-38 s on a quiet host (many_clients and
    # parked_resumed_every_way most of it: cross-hart calls wait for
    # descheduled vCPUs), and twice more than the default 60 s while
    # other QEMU runs shared the host. A hang still ends at the limit.
    b = boot(harts, "256M", append="init=ipctest ptlock=%s" % mode,
             timeout=(120 * SCALE if harts >= 8 else None))
    problems, res = ipctest_problems(b, harts, notes)
    # SYS_KILL prints nothing; the only report lines are the two pager
    # clients ipctest dooms on purpose (a pager that answers without a
    # page, then one that is gone), each exactly once.
    killed = [l.strip() for l in b.lines if l.startswith("proc: killed")]
    want = [r"^proc: killed pid \d+ \(ipcpeer\), thread \d+, hart \d+: "
            r"load page fault, and its pager sent no page at pc 0x[0-9a-f]+,"
            r" address 0x[0-9a-f]+$",
            r"^proc: killed pid \d+ \(ipcpeer\), thread \d+, hart \d+: "
            r"load page fault, and its pager is gone at pc 0x[0-9a-f]+, "
            r"address 0x[0-9a-f]+$"]
    if len(killed) != 2 or not all(re.match(w, k)
                                   for w, k in zip(want, killed)):
        problems.append("kill reports %r, expected the two pager ones"
                        % killed[:4])
    verdict(b, problems, log_path, "ipctest, %d harts, ptlock=%s (%s)"
            % (harts, mode, res.summary()))


@pytest.mark.parametrize("fast", ["off", "call", "reply"])
def test_ipctest_ipcfast(boot, fast, log_path, notes):
    """ipctest passes with the fast path off or half on (ipcfast=), and
    the fast path takes only what the option allows: no call at all when
    off (ipctest is told the mode and checks the kernel's count). With one
    side only, the other side's partner is always resumed the general way,
    through the context its switch writes (sched_park_context)."""
    b = boot(2, "256M", append="init=ipctest ipcfast=%s -- ipcfast=%s"
             % (fast, fast))
    problems, res = ipctest_problems(b, 2, notes)
    if not any("ipcfast" in l and fast in l for l in b.lines
               if l.startswith("cmdline:")):
        problems.append("the boot log does not show ipcfast=%s" % fast)
    verdict(b, problems, log_path, "ipctest, 2 harts, ipcfast=%s (%s)"
            % (fast, res.summary()))


def test_ipctest_bad_argument(boot, log_path):
    """A bad ipcfast= argument gets a usage line, not a run."""
    b = boot(1, "256M", append="init=ipctest -- ipcfast=sometimes")
    problems = check_boot(b, 1)
    if not any("ipctest: bad argument: ipcfast=sometimes" in l
               for l in b.lines):
        problems.append("no 'bad argument' line")
    if exit_status(b) != 2:
        problems.append("exit status %r, expected 2" % exit_status(b))
    verdict(b, problems, log_path, "ipctest ipcfast=sometimes")
