"""`make run`: the boot a person gets (README, docs/servers.md "Boot").

`make run` boots 4 harts with 512 MiB and no command line: init starts the
name server, the console server and the pager, then runs the `stress`
program (its list's `wait=stress` word) and waits for it: pf-anon,
pf-samept, map-churn and ipc-same, 1 s each, and a summary table of the
programs' own `bench` lines; then it starts the shell. `make run STRESS=0`
adds init's option `stress=off` to the command line, which leaves the
stress set out.

The boots here take their QEMU command line from the Makefile itself
(`make -n run`), so that what they boot is what `make run` boots:

  * test_run_stress_table: the table comes before the shell's first
    prompt, every row parses, its counts are non-zero and agree with each
    other (ops/s x ns/op = the threads that did the operations, 1 s per
    second; page faults in whole rounds of the region) and with the
    kernel's (the shell's `harts` counted at least the faults the rows
    did); the shell then works (`servers` shows the boot step) and powers
    off;
  * test_run_stress_ctrl_c: ^C while the stress set runs stops it and
    the program it runs (init: SYS_KILL with KILL_TREE): no table, the
    shell starts, `ps` shows no stress program running, and a workload
    init reaps ended killed (status -1), not by running out its time
    (stress's own waiting thread reaps it about half the time, and then
    nothing shows its status: utest kill_tree and test_shell's `run spin
    wait` are the tree kill's exact tests);
  * test_run_stress_skipped: with STRESS=0 no table, no stress line, the
    prompt and a working shell;
  * test_run_command_line: what STRESS=0 does to other APPEND values (no
    boot), and a bad STRESS value stops make with a message;
  * test_init_stress_option: init's stress= option and wait= words on
    tiny lists: a bad value gets a message and changes nothing;
    stress=off drops a wait=stress wherever it stands; a wait= program
    ends before init goes on;
  * test_stress_program: `stress` alone with other workloads (a row per
    pf-reclaim phase), with one that fails (its row says so, exit status
    1) and with a bad argument (usage, status 2).
"""
import os
import re
import shlex
import subprocess
import time

import pexpect
import pytest

import console
from test_boot import check_boot, verdict
from test_user import exit_status

pytestmark = pytest.mark.qemu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# The stress program's default set (userland/stress/stress.c), in its order,
# and its default region size: 4 MiB, 1024 pages a round.
DEFAULT_SET = ["pf-anon", "pf-samept", "map-churn", "ipc-same"]
ROUND_PAGES = 1024
HEADER_RE = re.compile(r"^workload\s+threads\s+ops\s+ops/s\s+ns/op\s+"
                       r"contended\s+ptlock$")
ROW_RE = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+"
                    r"(\d+\.\d\d)%\s+(split|single)$")
DONE_RE = re.compile(r"^stress: done in (\d+\.\d) s$")
MM_RE = re.compile(r"^mm: frame record .* ptlock=(split|single) ")
REAPED_RE = (r"init: reaped (\S+) \(pid \d+\), whose parent had ended: "
             r"status (-?\d+)")
# The programs the default set runs (userland/stress/stress.c).
WORKLOAD_PROGS = ("pf-anon", "pf-samept", "map-churn", "ipc-pingpong")
# Variables of the caller's make or shell that would change `make run`.
MAKE_ENV_DROP = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                 "HARTS", "MEM", "APPEND", "STRESS")


def make_run(build_dir, *assignments):
    """(returncode, QEMU argv or None, make's output) of `make -n run`
    with @assignments ("STRESS=0", ...)."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_ENV_DROP}
    p = subprocess.run(["make", "-s", "-n", "run", "O=%s" % build_dir] +
                       list(assignments), cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    argv = None
    for line in p.stdout.splitlines():
        words = shlex.split(line)
        if words and os.path.basename(words[0]).startswith("qemu-system-"):
            argv = words
    return p.returncode, argv, p.stdout + p.stderr


def option(argv, name):
    """The value after @name in @argv, or None."""
    return argv[argv.index(name) + 1] if name in argv else None


def run_config(build_dir, *assignments):
    """(harts, mem, append) of `make run` with @assignments."""
    rc, argv, out = make_run(build_dir, *assignments)
    if rc != 0 or argv is None:
        pytest.fail("`make -n run %s` gave no QEMU command (status %d):\n%s"
                    % (" ".join(assignments), rc, out), pytrace=False)
    return int(option(argv, "-smp")), option(argv, "-m"), \
        option(argv, "-append")


def parse_table(lines):
    """(rows, problems): rows as dicts, from the header to 'stress: done'."""
    problems = []
    heads = [i for i, l in enumerate(lines) if HEADER_RE.match(l)]
    if len(heads) != 1:
        return [], ["expected one table header, found %d" % len(heads)]
    rows = []
    for line in lines[heads[0] + 1:]:
        if DONE_RE.match(line):
            break
        m = ROW_RE.match(line)
        if not m:
            problems.append("table row does not parse: %r" % line)
            continue
        rows.append(dict(name=m.group(1), threads=int(m.group(2)),
                         ops=int(m.group(3)), per_s=int(m.group(4)),
                         ns=int(m.group(5)), cpct=float(m.group(6)),
                         ptlock=m.group(7)))
    else:
        problems.append("no 'stress: done in N s' after the table")
    return rows, problems


def workers(row):
    """The threads a row's operations are counted of (the programs'
    ns_per_op = elapsed x these / ops): map-churn's faulting half, one
    client per ipc pair."""
    if row["name"] == "map-churn":
        return row["threads"] - row["threads"] // 2
    if row["name"].startswith("ipc-"):
        return row["threads"] // 2
    return row["threads"]


def check_rows(rows, harts, mode):
    problems = []
    names = [r["name"] for r in rows]
    if names != DEFAULT_SET:
        return ["rows %r, expected %r" % (names, DEFAULT_SET)]
    for r in rows:
        what = "row %s" % r["name"]
        want = 2 * harts if r["name"].startswith("ipc-") else harts
        if r["threads"] != want:
            problems.append("%s: %d threads, expected %d"
                            % (what, r["threads"], want))
        if min(r["ops"], r["per_s"], r["ns"]) <= 0:
            problems.append("%s: ops=%d ops/s=%d ns/op=%d: not all non-zero"
                            % (what, r["ops"], r["per_s"], r["ns"]))
            continue
        if r["ptlock"] != mode:
            problems.append("%s: ptlock %s, the kernel says %s"
                            % (what, r["ptlock"], mode))
        if not 0.0 <= r["cpct"] <= 100.0:
            problems.append("%s: contended %.2f%%" % (what, r["cpct"]))
        # Each program ran at least its 1 s: at most ops per second.
        if r["per_s"] > r["ops"]:
            problems.append("%s: %d ops/s from %d ops in 1 s or more"
                            % (what, r["per_s"], r["ops"]))
        # ops/s and ns/op come from the same elapsed time: their product
        # is the working threads' 10^9 ns per second (per_s rounds down,
        # and its time up to the next whole millisecond).
        w = workers(r)
        ratio = r["per_s"] * r["ns"] / (w * 1e9)
        if abs(ratio - 1.0) > 0.01 + 1.0 / r["per_s"]:
            problems.append("%s: ops/s %d x ns/op %d is %.3f x %d threads' "
                            "second" % (what, r["per_s"], r["ns"], ratio, w))
        if r["name"].startswith("pf-") and r["ops"] % ROUND_PAGES:
            problems.append("%s: %d faults, not whole rounds of %d pages"
                            % (what, r["ops"], ROUND_PAGES))
    return problems


def harts_faults(text):
    """The 'all' row's fault count of the shell's `harts`, or None."""
    m = re.search(r"^\s*all\s+(\d+)\s+\d+\s+\d+$", text, re.M)
    return int(m.group(1)) if m else None


def test_run_stress_table(kernel, build_dir, log_path, notes):
    """`make run`: the stress table, then a working shell."""
    harts, mem, append = run_config(build_dir)
    problems = []
    if (harts, mem, append) != (4, "512M", None):
        problems.append("make run boots -smp %s -m %s -append %r, expected "
                        "4 harts, 512M and no command line"
                        % (harts, mem, append))
    shell = {}
    with console.Session(kernel, harts, mem, append, timeout=180) as s:
        try:
            s.wait_for(r"stress: done in")
            s.wait_prompt()
            shell["servers"] = s.command("servers")
            shell["harts"] = s.command("harts")
            shell["shutdown"] = s.command("shutdown", prompt=False)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            problems.append("the console %s before the session ended"
                            % ("went quiet" if isinstance(e, pexpect.TIMEOUT)
                               else "closed"))
    b = s.boot
    problems += check_boot(b, harts)
    lines = [l.strip() for l in b.lines]
    modes = [m.group(1) for m in map(MM_RE.match, lines) if m]
    mode = modes[0] if modes else "?"
    rows, tp = parse_table(lines)
    problems += tp
    if rows:
        problems += check_rows(rows, harts, mode)

    # The table, then the shell: every row before its first prompt.
    first_prompt = next((i for i, l in enumerate(lines)
                         if l.startswith(console.PROMPT.strip())), None)
    done = [i for i, l in enumerate(lines) if DONE_RE.match(l)]
    if not done or first_prompt is None or done[0] > first_prompt:
        problems.append("the table did not end before the first prompt")
    if not b.grep(r"^init: stress \(pid \d+\) ended with status 0$"):
        problems.append("no 'init: stress (pid N) ended with status 0'")
    if b.grep(r"^stress: .*failed") or b.grep(r"^bench "):
        problems.append("a failed workload, or bench lines printed instead "
                        "of sent to stress")

    if "servers" in shell and not re.search(
            r"^stress\s+0\s+0\s+\(boot step, run once\)$",
            shell["servers"], re.M):
        problems.append("servers does not show the ended boot step:\n%s"
                        % shell["servers"])
    # The kernel counted every fault the rows counted (and the servers').
    if "harts" in shell and rows:
        kf = harts_faults(shell["harts"])
        touched = sum(r["ops"] for r in rows if r["name"].startswith("pf-")
                      or r["name"] == "map-churn")
        if kf is None or kf < touched:
            problems.append("harts: the kernel counted %s faults, fewer "
                            "than the %d of the table" % (kf, touched))
    if not b.grep(r"^init: exited with status 0$"):
        problems.append("no 'init: exited with status 0' (shutdown)")
    verdict(b, problems, log_path, "make run: the stress table and the shell")
    notes("stress set: %s s of a %.1f s session"
          % (DONE_RE.match(lines[done[0]]).group(1), b.seconds))


def test_run_stress_ctrl_c(kernel, build_dir, log_path, notes):
    """`make run`, ^C during the stress set: init stops it and what it
    started (no table, no stress program left), and the shell starts."""
    harts, mem, append = run_config(build_dir)
    problems = []
    out = ""
    reaped = None
    with console.Session(kernel, harts, mem, append, timeout=180) as s:
        try:
            # In the first workload (pf-anon is running), and once the
            # console server has the UART (its line and stress's come in
            # either order): the ^C goes to the server.
            seen = ""
            for regex in (r"stress: running .* on \d+ harts",
                          r"console: serving the UART"):
                if not re.search(regex, seen):
                    s.wait_for(regex)
                    seen += s.child.before + s.child.after
            time.sleep(0.5)
            s.type("\x03")
            s.wait_prompt()
            out = s.command("ps")
            # The workload, killed with stress (not left to run out its
            # second and exit 0), is reaped either by stress's waiting
            # thread on its way out, or by init (once a second) when it
            # is init's: then its status is -1. Its line may come
            # before, within or after the ps output; wait for it while
            # ps shows the workload ending.
            deadline = time.monotonic() + 10
            while (re.search(r"\bending\s+(%s)$" % "|".join(WORKLOAD_PROGS),
                             out, re.M) and
                   not re.search(REAPED_RE, s.sink.getvalue()) and
                   time.monotonic() < deadline):
                try:
                    s.child.expect([REAPED_RE], timeout=0.5)
                except pexpect.TIMEOUT:
                    pass
            m = re.search(REAPED_RE, s.sink.getvalue())
            reaped = m and (m.group(1), m.group(2))
            s.command("shutdown", prompt=False)
        except (pexpect.TIMEOUT, pexpect.EOF):
            problems.append("no prompt after ^C, or the shell did not "
                            "power off")
    b = s.boot
    problems += check_boot(b, harts)
    if not b.grep(r"^init: \^C: stopping stress \(pid \d+\) and what it "
                  r"started$"):
        problems.append("no 'init: ^C: stopping stress (pid N) and what it "
                        "started'")
    if not b.grep(r"^init: stress \(pid \d+\) was stopped by \^C with "
                  r"status -1$"):
        problems.append("no 'init: stress (pid N) was stopped by ^C with "
                        "status -1'")
    if b.grep(DONE_RE.pattern):
        problems.append("the stress set ran to its end: %r"
                        % b.grep(DONE_RE.pattern)[0])
    if reaped and (reaped[0] not in WORKLOAD_PROGS or reaped[1] != "-1"):
        problems.append("init reaped %s with status %s, expected a "
                        "workload killed with stress (-1)" % reaped)
    left = [l for l in out.splitlines()
            if re.search(r"\brunning\s+(stress|pf-\S+|map-churn|"
                         r"ipc-pingpong|spawn-storm)$", l)]
    if left or "PID" not in out:
        problems.append("ps after ^C: %s" % (left or repr(out)))
    if not b.grep(r"^init: exited with status 0$"):
        problems.append("no 'init: exited with status 0' (shutdown)")
    verdict(b, problems, log_path, "make run, ^C in the stress set")
    notes("^C in the stress set: session %.1f s" % b.seconds)


def test_run_stress_skipped(kernel, build_dir, log_path, notes):
    """`make run STRESS=0`: no table; the prompt and a working shell."""
    harts, mem, append = run_config(build_dir, "STRESS=0")
    problems = []
    if (harts, mem, append) != (4, "512M", "-- stress=off"):
        problems.append("make run STRESS=0 boots -smp %s -m %s -append %r"
                        % (harts, mem, append))
    out = ""
    with console.Session(kernel, harts, mem, append, timeout=120) as s:
        try:
            s.wait_prompt()
            out = s.command("servers")
            s.command("shutdown", prompt=False)
        except (pexpect.TIMEOUT, pexpect.EOF):
            problems.append("no prompt, or the shell did not power off")
    b = s.boot
    problems += check_boot(b, harts)
    if not b.grep(r"^init: programs \(from the manifest\): names console "
                  r"pager shell \(stress=off\)$"):
        problems.append("init's list is not the manifest's without "
                        "wait=stress")
    for regex in (r"^stress:", HEADER_RE.pattern, r"^init: running stress"):
        if b.grep(regex):
            problems.append("with stress=off: %r" % b.grep(regex)[0])
    for name in ("names", "console", "pager", "shell"):
        if not re.search(r"^%s\s+\d+\s+0$" % name, out, re.M):
            problems.append("servers does not list %s" % name)
    if re.search(r"^stress\b", out, re.M):
        problems.append("servers lists stress")
    if not b.grep(r"^init: exited with status 0$"):
        problems.append("no 'init: exited with status 0' (shutdown)")
    verdict(b, problems, log_path, "make run STRESS=0")
    notes("make run STRESS=0 session: %.1f s" % b.seconds)


@pytest.mark.parametrize("assignments,want", [
    (["STRESS=0", "APPEND=ptlock=single"], "ptlock=single -- stress=off"),
    (["STRESS=0", "APPEND=-- names pager shell"],
     "-- names pager shell stress=off"),
    (["STRESS=0", "APPEND=init=hello"], "init=hello"),
    (["STRESS=1", "APPEND=ptlock=single"], "ptlock=single"),
    (["STRESS=1"], None),
])
def test_run_command_line(build_dir, assignments, want):
    """STRESS=0 puts stress=off among init's words (after "--", added if
    absent), and leaves a command line naming another program alone."""
    _, _, append = run_config(build_dir, *assignments)
    assert append == want, "make run %s: -append %r" % (
        " ".join(assignments), append)


def test_run_bad_stress_value(build_dir):
    rc, argv, out = make_run(build_dir, "STRESS=maybe")
    assert rc != 0 and argv is None, out
    assert re.search(r"STRESS must be 1 .* or 0 .*, not 'maybe'", out), out


# (init's words, lines that must be there, lines that must not)
INIT_CASES = [
    pytest.param("-- names stress=maybe test=hello",
                 [r"^init: 'stress=maybe': the stress option is stress=on "
                  r"or stress=off; ignored \(stress=on\)$",
                  r"^init: programs \(from the command line\): names "
                  r"test=hello$",
                  r"^hello from user space"], [r"^stress:"], id="bad-value"),
    pytest.param("-- names wait=stress stress=off test=hello",
                 [r"^init: programs \(from the command line\): names "
                  r"test=hello \(stress=off\)$",
                  r"^hello from user space"], [r"^stress:"],
                 id="off-after-wait"),
    pytest.param("-- names wait=hello test=exit42",
                 [r"^init: running hello and waiting for it \(\^C stops it\)$",
                  r"^init: hello \(pid \d+\) ended with status 0$"],
                 [r"^stress:"], id="wait-word"),
]


@pytest.mark.parametrize("append,want,dont", INIT_CASES)
def test_init_stress_option(boot, append, want, dont, log_path):
    b = boot(1, "128M", append=append)
    problems = check_boot(b, 1)
    lines = [l.strip() for l in b.lines]
    for regex in want:
        if not b.grep(regex):
            problems.append("no line matching %r" % regex)
    for regex in dont:
        if b.grep(regex):
            problems.append("unexpected %r" % b.grep(regex)[0])
    test = append.split("test=")[1]
    status = exit_status(b)
    if status != (42 if test == "exit42" else 0):
        problems.append("exit status %r, expected %s's" % (status, test))
    if "wait=hello" in append:
        # The boot step ended before init went on to the test program.
        ended = [i for i, l in enumerate(lines)
                 if re.match(r"^init: hello \(pid \d+\) ended", l)]
        starts = [i for i, l in enumerate(lines)
                  if l == "init: starting exit42"]
        if not ended or not starts or ended[0] > starts[0]:
            problems.append("exit42 started before the wait=hello step "
                            "ended")
    verdict(b, problems, log_path, "init %r" % append)


# The stress program on its own (as the first process, which it does not
# mind): the other kinds of rows, a workload that fails, a bad argument.
STRESS_CASES = [
    # pf-reclaim gives a row per phase; one ipc pair across 2 harts.
    pytest.param(2, "256M", "pf-reclaim ipc-cross spawn-storm", 0,
                 ["pf-reclaim/base", "pf-reclaim/reclaim", "ipc-cross",
                  "spawn-storm"], id="more-workloads"),
    # 64 MiB per thread in 64 MiB of RAM: the kernel kills pf-anon.
    pytest.param(2, "64M", "mib=64 pf-anon", 1, ["pf-anon"], id="failed"),
    pytest.param(1, "128M", "seconds=0", 2, [], id="bad-argument"),
]


@pytest.mark.parametrize("harts,mem,args,status,names", STRESS_CASES)
def test_stress_program(boot, harts, mem, args, status, names, log_path):
    b = boot(harts, mem, append="init=stress -- %s" % args, timeout=120)
    problems = check_boot(b, harts)
    lines = [l.strip() for l in b.lines]
    if exit_status(b) != status:
        problems.append("exit status %r, expected %d"
                        % (exit_status(b), status))
    if status == 2:
        if not b.grep(r"^usage: stress ") or b.grep(HEADER_RE.pattern):
            problems.append("no usage message, or a table anyway")
    elif status == 1:
        if not b.grep(r"^pf-anon\s+failed: pf-anon exited with status -1$"):
            problems.append("no 'pf-anon failed: ...' row")
        if not b.grep(r"^stress: 1 of 1 workloads failed$"):
            problems.append("no 'stress: 1 of 1 workloads failed'")
    else:
        rows, tp = parse_table(lines)
        problems += tp
        got = [r["name"] for r in rows]
        if got != names:
            problems.append("rows %r, expected %r" % (got, names))
        for r in rows:
            if min(r["threads"], r["ops"], r["per_s"], r["ns"]) <= 0:
                problems.append("row %r: not all non-zero" % r)
        if b.grep(r"failed"):
            problems.append("a failure: %r" % b.grep(r"failed")[0])
    verdict(b, problems, log_path, "stress %s on %d harts" % (args, harts))
