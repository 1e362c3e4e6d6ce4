"""IPC: the userland KTAP suite `ipctest` (handles, calls, notifications,
partners that die) on 1, 4 and 8 harts in both page-table locking modes.

ipctest starts `ipcpeer` children for its cross-process cases, so a run
also exercises spawn with a handle, kill of a process blocked in IPC, and
the wake-ups of the other side.
"""
import pytest

from test_boot import check_boot, check_ktap, verdict
from test_user import exit_status


@pytest.mark.parametrize("harts", [1, 4, 8])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_ipctest(boot, harts, mode, log_path, notes):
    """Every ipctest case passes; nothing is killed; the kernel lives."""
    b = boot(harts, "256M", append="init=ipctest ptlock=%s" % mode)
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    if res.passed < 20:
        problems.append("only %d ipctest cases passed" % res.passed)
    if exit_status(b) != 0:
        problems.append("ipctest exit status %r, expected 0"
                        % exit_status(b))
    # Only the peers the test kills on purpose may be reported killed,
    # and they are killed by SYS_KILL, which prints nothing.
    killed = [l for l in b.lines if l.startswith("proc: killed")]
    if killed:
        problems.append("unexpected kill reports: %r" % killed[:3])
    verdict(b, problems, log_path, "ipctest, %d harts, ptlock=%s (%s)"
            % (harts, mode, res.summary()))
