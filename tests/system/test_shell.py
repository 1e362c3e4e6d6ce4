"""The shell, driven through the console like a person (docs/servers.md).

A boot without init= (as `make run STRESS=0` boots: 4 harts, 512 MiB,
`-- stress=off`; the stress set `make run` runs first is tested in
test_run.py) starts init from the manifest, which starts the name server,
the console server (which takes the UART over: everything below is typed
through it and printed by it), the pager and the shell;
the test types at the `rivet> ` prompt and checks what comes back: help,
ps, mem, harts, lockstat, run of a program and of the pager's KTAP suite,
mistakes of every kind, ^C to a running program, and shutdown (init ends,
the kernel powers off).

The second boot adds the test server crashy to init's list (`-- names
pager crashy shell`) and runs crashtest from the shell: crashy crashes
while clients call it; they get errors, not hangs; init restarts it with
a log line; a new lookup reaches it. Killing the name server from the
shell gets it restarted too, and the services register again.
"""
import re

import pexpect
import pytest

import console
import ktap
from test_boot import check_boot, verdict

pytestmark = pytest.mark.qemu

# The commands `help` must list (userland/servers/shell.c).
COMMANDS = ["help", "ps", "mem", "lockstat", "harts", "run", "kill",
            "servers", "names", "pager", "evict", "shutdown", "exit"]
EXIT_RE = r"shell: %s \(pid (\d+)\) exited with status (-?\d+)"


class Checker:
    """Collects problems; each check names the command it was about."""

    def __init__(self):
        self.problems = []

    def want(self, what, text, regex, flags=re.M):
        m = re.search(regex, text, flags)
        if not m:
            self.problems.append("%s: no match for %r in:\n%s"
                                 % (what, regex, indent(text)))
        return m

    def dont(self, what, text, regex):
        m = re.search(regex, text, re.M)
        if m:
            self.problems.append("%s: unexpected %r" % (what, m.group(0)))


def indent(text):
    return "\n".join("      | " + l for l in text.strip("\n").split("\n"))


def lockstat_rows(text):
    """{lock class: acquisitions} from the lockstat table."""
    rows = {}
    for name in ("page-table page", "address space", "frame pool"):
        m = re.search(r"^%s\s+(\d+)\s+(\d+)\s+\d+\.\d%%\s+(\d+)$" % name,
                      text, re.M)
        if m:
            rows[name] = int(m.group(1))
    return rows


def run_session(kernel, harts, mem, append, steps, log_path, what,
                timeout=180):
    """Boot, wait for the prompt, run steps(session, checker), shut down
    (unless the steps did), and fail with the console log on problems."""
    c = Checker()
    with console.Session(kernel, harts, mem, append, timeout=timeout) as s:
        try:
            s.wait_prompt()
            steps(s, c)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            c.problems.append("the console %s while %s"
                              % ("went quiet" if isinstance(
                                  e, pexpect.TIMEOUT) else "closed",
                                 "typing"))
    b = s.boot
    problems = check_boot(b, harts) + c.problems
    if not b.grep(r"^init: exited with status 0$"):
        problems.append("no 'init: exited with status 0' (shutdown)")
    verdict(b, problems, log_path, what)
    return b


def session_steps(s, c):
    out = s.command("help")
    for cmd in COMMANDS:
        c.want("help", out, r"^  %s\b" % re.escape(cmd))

    out = s.command("ps")
    c.want("ps", out, r"^\s*PID\s+PARENT\s+THREADS\s+STATE\s+NAME$")
    c.want("ps", out, r"^\s*1\s+0\s+\d+\s+running\s+init$")
    for name in ("names", "console", "pager", "shell"):
        c.want("ps", out, r"^\s*\d+\s+1\s+\d+\s+running\s+%s$" % name)
    # The console server owns the UART (init handed it the device through
    # the name server): every line here was typed and printed through it.
    out = s.command("names")
    for name in ("console", "dev:console", "pager", "init"):
        c.want("names", out, r"^\s*%s\b" % re.escape(name))

    out = s.command("mem")
    m = c.want("mem", out, r"^mem: (\d+) frames of 4096 bytes: (\d+) used, "
               r"(\d+) free \(\d+ KiB free\)$")
    if m:
        total, used, free = (int(x) for x in m.groups())
        if not (0 < total < 512 * 256 and used > 0 and free > 0 and
                used + free == total):
            c.problems.append("mem: %d frames, %d used, %d free, of 512 MiB"
                              % (total, used, free))

    out = s.command("harts")
    c.want("harts", out, r"^harts: 4 online$")
    for h in range(4):
        c.want("harts", out, r"^\s+%d\s+\d+\s+\d+\s+\d+$" % h)

    before = lockstat_rows(s.command("lockstat"))

    out = s.command("run hello one two")
    c.want("run hello", out, r"^hello from user space, pid \d+$")
    c.want("run hello", out, r'^hello: argv\[2\] = "two"$')
    m = c.want("run hello", out, EXIT_RE % "hello")
    if m and m.group(2) != "0":
        c.problems.append("hello exited with status %s" % m.group(2))

    out = s.command("run pagertest", timeout=240)
    res = ktap.parse(out)
    for t in res.failures():
        c.problems.append("pagertest: %s %s" % (t.result, t.path))
        c.problems.extend("    # " + d for d in t.diagnostics[-6:])
    if not res.documents or res.passed < 15:
        c.problems.append("pagertest: %d cases passed, expected 15"
                          % res.passed)
    m = c.want("run pagertest", out, EXIT_RE % "pagertest")
    if m and m.group(2) != "0":
        c.problems.append("pagertest exited with status %s" % m.group(2))
    # Its child that faults beyond the object is the only one killed with
    # a report (the one it kills while its threads wait for a pager call
    # ends quietly).
    kills = re.findall(r"^proc: killed pid \d+ \((\S+)\)", out, re.M)
    if kills != ["pagertest"]:
        c.problems.append("kill reports %r, expected one (pagertest's "
                          "child beyond the object)" % kills)

    out = s.command("lockstat")
    c.want("lockstat", out, r"^lockstat: page-table locks split")
    after = lockstat_rows(out)
    if sorted(after) != sorted(before) or len(after) != 3:
        c.problems.append("lockstat: rows %r before, %r after"
                          % (before, after))
    elif after["page-table page"] <= before["page-table page"]:
        c.problems.append("lockstat: page-table locks not taken by "
                          "pagertest (%r -> %r)" % (before, after))

    out = s.command("pager")
    m = c.want("pager", out, r"^pager: 0 objects, 0 pages, (\d+) faults "
               r"served$")
    if m and int(m.group(1)) < 512:
        c.problems.append("pager: only %s faults served" % m.group(1))

    # Mistakes: a message each, and the shell is still there.
    for line, regex in [
            ("frobnicate", r"^shell: unknown command 'frobnicate' \(try "
                           r"help\)$"),
            ("kill 999", r"^shell: kill: no process 999$"),
            ("kill abc", r"^shell: kill: 'abc' is not a process id$"),
            ("kill", r"^shell: kill: usage: kill PID$"),
            ("kill 1", r"^shell: kill: pid 1 is init; use shutdown$"),
            ("run", r"^shell: run: usage: run PROGRAM"),
            ("run nosuch", r"^shell: run: no program 'nosuch' in the boot "
                           r"archive$"),
            ("run a-name-longer-than-thirty-one-bytes",
             r"^shell: run: program name longer than 31 bytes$"),
            ("evict 12345", r"^shell: evict: no object 12345$"),
            ("evict", r"^shell: evict: usage"),
    ]:
        c.want(line, s.command(line), regex)

    # ^C reaches a running program through the console server.
    s.type("run spin")
    s.child.send("\r")
    s.wait_for(r"spin: pid \d+ spinning")
    s.type("\x03")
    s.wait_prompt()
    c.want("^C", s.child.before.replace("\r", ""),
           r"^shell: spin \(pid \d+\) was killed with status -1$")

    out = s.command("shutdown", prompt=False)
    c.want("shutdown", out, r"^init: shutting down$")


def test_shell_session(kernel, log_path, notes):
    """`make run`'s boot reaches the shell; its commands work; mistakes
    get messages; shutdown powers off."""
    b = run_session(kernel, 4, "512M", "-- stress=off", session_steps,
                    log_path, "shell session on 4 harts (as make run "
                    "STRESS=0)")
    notes("shell session: %.1f s" % b.seconds)


def restart_steps(s, c):
    out = s.command("servers")
    for name in ("names", "pager", "crashy", "shell"):
        c.want("servers", out, r"^%s\s+\d+\s+0$" % name)

    out = s.command("run crashtest", timeout=120)
    res = ktap.parse(out)
    for t in res.failures():
        c.problems.append("crashtest: %s %s" % (t.result, t.path))
        c.problems.extend("    # " + d for d in t.diagnostics[-6:])
    if not res.documents or res.passed < 6:
        c.problems.append("crashtest: %d cases passed, expected 6"
                          % res.passed)
    c.want("crashtest", out, r"^proc: killed pid \d+ \(crashy\), .*store"
           r"/AMO page fault")
    c.want("crashtest", out, r"^init: crashy \(pid \d+\) ended with status "
           r"-1 \(killed or crashed\); restarting it in 100 ms "
           r"\(restart 1\)$")
    # Back-off: it doubles while crashy keeps crashing.
    c.want("crashtest", out, r"^init: crashy \(pid \d+\) ended with status "
           r"7; restarting it in 200 ms \(restart 2\)$")
    c.want("crashtest", out, EXIT_RE % "crashtest")

    out = s.command("servers")
    c.want("servers", out, r"^crashy\s+\d+\s+2$")

    # The name server itself: killed, restarted, services back in it.
    out = s.command("ps")
    m = c.want("ps", out, r"^\s*(\d+)\s+1\s+\d+\s+running\s+names$")
    if m:
        out = s.command("kill %s" % m.group(1))
        c.want("kill", out, r"^shell: killed pid %s names$" % m.group(1))
        s.wait_for(r"init: restarted names as pid \d+")
        s.wait_for(r"\n")
        s.type("\x15")          # ^U: whatever the message cut in two
        s.command("")
        out = s.command("pager")    # looked up anew: re-registered
        c.want("pager after the name server's restart", out,
               r"^pager: \d+ objects")

    out = s.command("shutdown", prompt=False)
    c.want("shutdown", out, r"^init: shutting down$")


def test_server_restart(kernel, log_path, notes):
    """A crashing server is restarted by init with back-off and a log
    line, while its clients get errors, not hangs; so is the name server."""
    b = run_session(kernel, 4, "512M", "-- names pager crashy shell",
                    restart_steps, log_path, "server restarts")
    notes("server restarts: %.1f s" % b.seconds)
