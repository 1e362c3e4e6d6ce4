"""QEMU boot scenarios: rivet on 1 to 32 harts, its self-tests, its command line.

Every boot must
  * print the banner "rivet <version> (<board>) ..." and exactly one
    "smp: N harts online (boot hart H)" line with the right N,
  * print no line containing "panic:",
  * end with "rivet: powering off" and QEMU exiting by itself (SBI SRST),
    with status 0, before the timeout,
and a boot with `ktest` must print a complete KTAP document in which every
test is ok (skips are allowed, and listed in the "rivet notes" section).

On any failure the whole console log goes to <build>/test-logs/<test>.log,
and the assertion message names it.

The 32-hart boot is marked slow; `make test PYTEST_ARGS="-k 'not 32'"` (or
`-m 'not slow'`) leaves it out.
"""

import re

import pytest

import ktap

pytestmark = pytest.mark.qemu

SMP_RE = re.compile(r"smp: (\d+) harts? online \(boot hart (\d+)\)")
SMP_ANY_RE = re.compile(r"smp: \d+ harts? online")
BANNER_RE = re.compile(r"^rivet \S+ \(")
POWEROFF = "rivet: powering off"


def check_boot(b, harts):
    """Problems common to every boot, as a list of strings."""
    problems = []
    lines = b.lines
    for i, line in enumerate(lines):
        if "panic:" in line:
            problems.append("console line %d: %s" % (i + 1, line.strip()))
            problems.extend("    " + x.strip() for x in lines[i + 1:i + 8]
                            if x.strip())
            break
    if not b.exited:
        problems.append(b.describe())
    elif b.exitstatus != 0:
        problems.append("%s (expected 0: a clean power-off)" % b.describe())
    if not any(BANNER_RE.match(line) for line in lines):
        problems.append("no banner line 'rivet <version> (<board>) ...'")
    smp = [line.strip() for line in lines if SMP_ANY_RE.search(line)]
    if len(smp) != 1:
        problems.append("expected one 'smp: %d harts online' line, found %d%s"
                        % (harts, len(smp), ": %s" % smp if smp else ""))
    else:
        m = SMP_RE.search(smp[0])
        if not m:
            problems.append("ill-formed smp line: %r" % smp[0])
        elif int(m.group(1)) != harts or int(m.group(2)) >= harts:
            problems.append("expected %d harts online with a boot hart below "
                            "%d, got %r" % (harts, harts, smp[0]))
    if b.exited and not any(POWEROFF in line for line in lines):
        problems.append("QEMU exited without '%s'" % POWEROFF)
    return problems


def check_ktap(b, notes):
    """Problems with the KTAP document(s) on the console."""
    res = ktap.parse(b.log)
    problems = []
    for t in res.failures():
        problems.append("KTAP: %s %s" % (
            "no result for" if t.result == "missing" else "failed", t.path))
        problems.extend("    # " + d for d in t.diagnostics[-8:])
    problems.extend("KTAP: " + e for e in res.errors)
    if not res.documents:
        problems.append("KTAP: no 'KTAP version 1' document on the console")
    elif not res.plan:
        problems.append("KTAP: the plan is empty (no tests ran)")
    for t in res.skips():
        notes("skipped %s: %s" % (t.path, t.reason or "no reason given"))
    return problems, res


def verdict(b, problems, log_path, what):
    if problems:
        path = log_path(b.transcript())
        pytest.fail("%s:\n  %s\nconsole log: %s" % (
            what, "\n  ".join(problems), path), pytrace=False)


# (harts, memory); ids carry the hart count so that -k 'not 32' selects.
KTEST_CONFIGS = [
    pytest.param(1, "512M", id="smp1-512M"),
    pytest.param(2, "512M", id="smp2-512M"),
    pytest.param(4, "512M", id="smp4-512M"),
    pytest.param(8, "512M", id="smp8-512M"),
    pytest.param(8, "64M", id="smp8-64M"),
    pytest.param(32, "512M", id="smp32-512M", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("harts,mem", KTEST_CONFIGS)
def test_ktest(boot, harts, mem, log_path, notes):
    """Boot with `ktest`: every in-kernel test ok, then power off."""
    b = boot(harts, mem, append="ktest")
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "%d harts, %s, ktest (%s)"
            % (harts, mem, res.summary()))
    notes("%s in %.1f s" % (res.summary(), b.seconds))


# Each entry: (what the kernel must complain about, a regex that the
# complaint's "cmdline:" line must match). The most specific come first:
# each complaint needs a line of its own.
BAD_CMDLINE = ('ktest bogus=1 =x ptlock ptlock=weird ctl\x07char '
               '"unterminated')
CMDLINE_COMPLAINTS = [
    ("ptlock=weird", r"weird"),
    ('"unterminated', r"unterminated"),
    ("bogus=1", r"bogus"),
    ("=x", r"=x|'x'|\"x\""),
    ("ctl\\x07char", r"ctl|\\x07|0x07|\^G|non-?printable|control"),
    ("ptlock (no value)", r"ptlock"),
]


def test_cmdline_garbage(boot, log_path, notes):
    """A hostile command line is reported option by option, never fatal."""
    harts = 2
    b = boot(harts, "512M", append=BAD_CMDLINE)
    problems = check_boot(b, harts)
    complaints = [line.strip() for line in b.lines
                  if line.lstrip().startswith("cmdline:")]
    # A line that echoes the whole command line is not a complaint.
    complaints = [c for c in complaints
                  if sum(bool(re.search(r, c)) for _, r in CMDLINE_COMPLAINTS)
                  < 4]
    used = set()
    missing = []
    for what, regex in CMDLINE_COMPLAINTS:
        r = re.compile(regex)
        for i, line in enumerate(complaints):
            if i not in used and r.search(line):
                used.add(i)
                break
        else:
            missing.append("no 'cmdline:' line about %s" % what)
    if missing:
        problems += missing
        problems.append("the cmdline: lines were:")
        problems.extend("    " + c for c in complaints or ["(none)"])
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "command line %r" % BAD_CMDLINE)


# `make run` (4 harts, no command line) now boots to the shell, which
# waits for a person: tests/system/test_shell.py boots it that way and types.
