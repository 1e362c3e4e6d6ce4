"""sysfuzz: the system-call fuzzer (userland/apps/sysfuzz.c) on 4 harts.

Each case boots `init=sysfuzz -- seed=N seconds=5 threads=4`: four
threads make system calls with hostile arguments for five seconds, then
the program undoes what it made and checks the kernel. The boot must

  * pass the checks every boot passes (test_boot.check_boot): no
    "panic:" line, a clean power-off, QEMU exiting by itself;
  * not kill sysfuzz ("proc: killed pid 1"): it never harms itself by
    design, so a kill means the kernel changed what it must not (or a
    fuzzer bug);
  * print nothing while it runs but what its ipcpeer children may print
    (their messages, the kernel's report when one is killed in a pager
    fault): no kernel line a user mistake can cause, once per call;
  * print its summary line, with at least MIN_CALLS calls and at least
    MIN_CODES different error codes (the arguments reached the checks);
  * print its check line ending in ": ok" (exit42 still ran and returned
    42, the free frames came back within the fuzzer's slack, its own code
    is unchanged) and exit with status 0.

RUNS are fixed seeds (and kernel options), so a failure names a command
line to run by hand (README.md, "The system-call fuzzer"). Runs that
once found a kernel bug stay in the list: seed 1 killed init through
SYS_KILL(1 << 61 | 1), and mapped a region over its own code and
unmapped it; seed 329 with ptlock=single left a worker waiting for ever
in a call that carried its own endpoint's last receive right; seed 331
hung: an idle hart stealing a thread was switched out between taking it
and queueing it, and the thread was lost. (Thread interleaving is not
deterministic: those bugs have targeted tests too, utest pid_high_bits
and map_over_image, ipctest call_carries_own_receive_right, ktest sched
steal_is_one_step.)
"""

import re

import pytest

from test_boot import check_boot, verdict
from test_user import exit_status

pytestmark = pytest.mark.qemu

HARTS = 4
SECONDS = 5
RUNS = [(1, ""), (2, ""), (3, ""), (329, "ptlock=single"), (331, "")]
MIN_CALLS = 2000
MIN_CODES = 8

SUMMARY_RE = re.compile(
    r"^sysfuzz seed=(\d+) threads=(\d+) seconds=(\d+) calls=(\d+) ok=(\d+) "
    r"errors=(\d+)((?: E_[A-Z]+=\d+)*) other=(\d+)$")
CHECK_RE = re.compile(
    r"^sysfuzz check: exit42=(-?\d+) free_before=(\d+) free_after=(\d+) "
    r"leaked=(-?\d+) text=(\w+): (\w+)$")
STARTED = "init: started 'sysfuzz' as pid 1"
# What children may print while the fuzzer runs.
CHILD_LINE_RE = re.compile(r"^(ipcpeer: |proc: killed pid \d+ \(ipcpeer\))")


def check_run(b, seed):
    """Problems with the fuzzer's own lines, as a list of strings; and the
    summary's call count (or None)."""
    problems = []
    lines = [line.strip() for line in b.lines]
    if any(line.startswith("proc: killed pid 1 ") for line in lines):
        problems.append("sysfuzz itself was killed: %s" % next(
            line for line in lines if line.startswith("proc: killed pid 1 ")))
    summary = [i for i, line in enumerate(lines) if SUMMARY_RE.match(line)]
    if STARTED not in lines or not summary:
        problems.append("no '%s' line or no summary line" % STARTED)
        return problems, None
    start = lines.index(STARTED)
    noise = [line for line in lines[start + 1:summary[0]]
             if line and not CHILD_LINE_RE.match(line)]
    if noise:
        problems.append("%d unexpected line(s) during the run, the first: %r"
                        % (len(noise), noise[0]))
    m = SUMMARY_RE.match(lines[summary[0]])
    calls = int(m.group(4))
    codes = re.findall(r"(E_[A-Z]+)=\d+", m.group(7))
    if int(m.group(1)) != seed:
        problems.append("summary for seed %s, expected %d" % (m.group(1),
                                                              seed))
    if calls < MIN_CALLS:
        problems.append("only %d calls (at least %d expected)"
                        % (calls, MIN_CALLS))
    if len(codes) < MIN_CODES:
        problems.append("only %d error codes (%s), at least %d expected"
                        % (len(codes), " ".join(codes), MIN_CODES))
    if int(m.group(8)):
        problems.append("%s results below every error code" % m.group(8))
    checks = [CHECK_RE.match(line) for line in lines if CHECK_RE.match(line)]
    if not checks:
        problems.append("no 'sysfuzz check:' line")
    elif checks[0].group(6) != "ok":
        problems.append("the check failed: %s" % checks[0].group(0))
    if exit_status(b) != 0:
        problems.append("sysfuzz exit status %r, expected 0"
                        % exit_status(b))
    return problems, calls


@pytest.mark.parametrize("seed,kargs", RUNS,
                         ids=["seed%d%s" % (s, "-" + k if k else "")
                              for s, k in RUNS])
def test_sysfuzz(boot, seed, kargs, log_path, notes):
    """SECONDS of hostile system calls from HARTS threads: the kernel runs
    on, and its state comes back."""
    append = "init=sysfuzz %s-- seed=%d seconds=%d threads=%d" % (
        kargs + " " if kargs else "", seed, SECONDS, HARTS)
    b = boot(HARTS, "512M", append=append)
    problems = check_boot(b, HARTS)
    more, calls = check_run(b, seed)
    problems += more
    verdict(b, problems, log_path, append)
    notes("seed %d: %d calls in %.1f s" % (seed, calls, b.seconds))
