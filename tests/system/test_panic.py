"""QEMU crash scenarios: what a kernel panic report looks like, and that
scripts/symbolize turns it into source locations.

The boot option `crashtest=KIND` (kernel/main.c) makes the boot hart die
once SMP is up:

    panic   calls panic()
    null    loads from address 0 in kernel mode (a load page fault)
    stack   recurses until the kernel stack runs into its unmapped guard
            page; the trap entry switches to the hart's emergency stack

Each boot (2 harts, 128M) must print a first "panic:" line with the reason,
for a trap the register dump (sepc, stval and the 31 general registers),
at least two "bt: #N 0x..." lines numbered from 0, then
"rivet: powering off", and QEMU must exit by itself (a panic powers off
through SBI SRST). The QEMU exit status is not checked: OpenSBI 1.1 on qemu
virt reports a shutdown as success whatever reason the kernel gives.

scripts/symbolize then reads the saved console log; every backtrace entry
must resolve to a function, and the frames that matter must name the
functions that crashed (crashtest is small enough that GCC inlines it into
kmain, so either name will do).

On any failure the console log and the symbolize output go to
<build>/test-logs/<test>.log.
"""

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.qemu

HARTS = 2
MEM = "128M"
POWEROFF = "rivet: powering off"
BT_RE = re.compile(r"^bt: #(\d+) 0x[0-9a-f]{16}$")
# "  ra: ffffffff8000182a   sp: ..." in the register dump.
REG_RE = re.compile(r"\b([a-z]\w*):\s+([0-9a-f]{16})\b")
REGS = ("ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
        "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()
# One symbolize output line per address:
# "0xffffffff8000156e crash_recurse kernel/main.c:72  [bt #1]"
SYM_RE = re.compile(r"^0x[0-9a-f]{16} (\S+) (\S+)  \[([^\]]+)\]$")


class Crash:
    """What one crash kind must look like."""

    def __init__(self, kind, reason, trap, symbols, min_symbols=1,
                 where=None):
        self.kind = kind
        self.reason = reason          # in the first "panic:" line
        self.trap = trap              # a register dump is expected
        self.symbols = symbols        # regex: a function that crashed
        self.min_symbols = min_symbols  # ... named by at least this many
        self.where = where            # regex: a location symbolize prints


CRASHES = [
    Crash("panic", "crashtest: panic requested", trap=False,
          symbols=r"^(crashtest|kmain)$"),
    Crash("null", "load page fault in kernel", trap=True,
          symbols=r"^(crashtest|kmain)$",
          where=r"(crashtest|kmain) \S*kernel/main\.c:\d+"),
    Crash("stack", "kernel stack overflow", trap=True,
          symbols=r"^crash_recurse$", min_symbols=3),
    Crash("lockorder",
          "lockorder: hart 0 takes a as lock (rank 10) while holding a pt "
          "lock (rank 20)", trap=False,
          symbols=r"^(spin_lock|spin_lock_raw|order_check_push)$"),
]


def check_report(b, crash):
    """Problems with the panic report on the console, as a list."""
    lines = [line.strip() for line in b.lines]
    problems = []
    panics = [i for i, line in enumerate(lines) if line.startswith("panic:")]
    if not panics:
        return ["no line starting 'panic:'; %s" % b.describe()]
    first = panics[0]
    if crash.reason not in lines[first]:
        problems.append("first panic line %r does not give the reason %r"
                        % (lines[first], crash.reason))
    report = lines[first:]

    if crash.trap:
        sepc = [line for line in report if line.startswith("sepc:")]
        if not sepc or "stval:" not in sepc[0]:
            problems.append("no 'sepc: ... stval: ...' line after the panic")
        regs = {}
        for line in report:
            if line.startswith(("sepc:", "bt:", "panic:")):
                continue
            for m in REG_RE.finditer(line):
                regs.setdefault(m.group(1), m.group(2))
        missing = [r for r in REGS if r not in regs]
        if missing:
            problems.append("register dump lacks %s" % " ".join(missing))
        if crash.kind == "null" and sepc and \
                not re.search(r"stval: 0{16}\b", sepc[0]):
            problems.append("stval is not 0 for a load from address 0: %r"
                            % sepc[0])

    bt = [BT_RE.match(line) for line in report]
    numbers = [int(m.group(1)) for m in bt if m]
    if len(numbers) < 2:
        problems.append("%d 'bt: #N 0x...' lines, expected at least 2"
                        % len(numbers))
    elif numbers != list(range(len(numbers))):
        problems.append("backtrace not numbered 0, 1, 2, ...: %s" % numbers)

    if not any(line == POWEROFF for line in report):
        problems.append("no '%s' after the panic" % POWEROFF)
    if not b.exited:
        problems.append(b.describe())
    return problems


def symbolize(root, build_dir, log):
    """Run scripts/symbolize on the saved console log @log: (rc, output)."""
    cmd = [sys.executable, str(root / "scripts" / "symbolize"),
           "-e", str(build_dir / "rivet.elf"), str(log)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def check_symbols(out, crash):
    """Problems with scripts/symbolize's output @out, as a list."""
    problems = []
    entries = [SYM_RE.match(line) for line in out.splitlines()]
    entries = [m for m in entries if m]
    bt = [m for m in entries if m.group(3).startswith("bt #")]
    if not bt:
        return ["symbolize printed no backtrace entry"]
    unknown = [m.group(3) for m in bt if m.group(1) == "??"]
    if unknown:
        problems.append("symbolize could not resolve %s" % ", ".join(unknown))
    # Frames, including the "inlined by" lines under each entry.
    funcs = [line.split()[2] if line.startswith("  inlined by ")
             else SYM_RE.match(line).group(1)
             for line in out.splitlines()
             if line.startswith("  inlined by ") or SYM_RE.match(line)]
    named = [f for f in funcs if re.search(crash.symbols, f)]
    if len(named) < crash.min_symbols:
        problems.append("symbolize names %s %d time(s), expected at least %d"
                        % (crash.symbols, len(named), crash.min_symbols))
    if crash.where and not re.search(crash.where, out):
        problems.append("symbolize output has no location matching %r"
                        % crash.where)
    return problems


@pytest.mark.parametrize("crash", [pytest.param(c, id=c.kind)
                                   for c in CRASHES])
def test_crash(boot, crash, root, build_dir, tmp_path, log_path, notes):
    """crashtest=KIND: a complete panic report, power-off, symbolized bt."""
    b = boot(HARTS, MEM, append="crashtest=" + crash.kind)
    problems = check_report(b, crash)
    log = tmp_path / "console.log"
    log.write_text(b.log.replace("\r", ""), encoding="utf-8")
    rc, out = symbolize(root, build_dir, log)
    if rc != 0:
        problems.append("scripts/symbolize exited with %d" % rc)
    else:
        problems += check_symbols(out, crash)
    if problems:
        path = log_path("%s\n# scripts/symbolize (exit %d):\n%s"
                        % (b.transcript(), rc, out))
        pytest.fail("crashtest=%s:\n  %s\nconsole log: %s" % (
            crash.kind, "\n  ".join(problems), path), pytrace=False)
    notes("panic report, power-off and symbolize in %.1f s" % b.seconds)
