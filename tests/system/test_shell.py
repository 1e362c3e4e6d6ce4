"""The shell, driven through the console like a person (docs/servers.md).

A boot without init= (as `make run STRESS=0` boots: 4 harts, 512 MiB,
`-- stress=off`; the stress set `make run` runs first is tested in
test_run.py) starts init from the manifest, which starts the name server,
the console server (which takes the UART over: everything below is typed
through it and printed by it), the pager and the shell;
the test types at the `rivet> ` prompt and checks what comes back: help,
ps, mem, harts, lockstat, run of a program and of the pager's KTAP suite,
mistakes of every kind, ^C at the prompt (the line is dropped, the next
program is not interrupted by it) and to a running program, a line typed
while another program prints (the console server keeps the prompt and
the line below the printed lines, whole), a line typed after ^C killed a
program that was reading one (it reaches the shell), and shutdown (init ends, the
kernel powers off).

`programs` must list exactly the bin/ members of the kernel's archive
(<build>/initrd.cpio), sorted down columns no wider than the shell's 72,
and `run exit42` must work. Another boot gives the kernel an initrd made
here, with the shell as the first process: `programs` lists each name
once, where it occurs last, only when that member is a regular file, and
only names `run` takes (no '/', at most 31 bytes); the listed ones run
(the last `twice` wins), the others do not.

A last boot adds the test server crashy to init's list (`-- names
pager crashy shell`) and runs crashtest from the shell: crashy crashes
while clients call it; they get errors, not hangs; init restarts it with
a log line; a new lookup reaches it. Killing the name server from the
shell gets it restarted too, and the services register again.
"""
import re
import subprocess

import pexpect
import pytest

import console
import ktap
from test_boot import check_boot, verdict

pytestmark = pytest.mark.qemu

# The commands `help` must list (userland/servers/shell.c).
COMMANDS = ["help", "ps", "mem", "lockstat", "harts", "programs", "run",
            "kill", "servers", "names", "pager", "evict", "shutdown", "exit"]
EXIT_RE = r"shell: %s \(pid (\d+)\) exited with status (-?\d+)"
LIST_WIDTH = 72         # userland/servers/shell.c: `programs` lines


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


def archive_programs(cpio):
    """NAME of every bin/NAME in the newc archive @cpio (GNU cpio -it)."""
    with open(cpio, "rb") as f:
        out = subprocess.run(["cpio", "-it", "--quiet"], stdin=f,
                             capture_output=True, check=True).stdout
    return {n[4:] for n in out.decode().split() if n.startswith("bin/")}


def check_programs(c, out, want):
    """`programs` printed the names @want, each once, sorted down the
    columns (as ls does), in lines of at most LIST_WIDTH columns."""
    lines = [l for l in out.split("\n") if l.strip()]
    rows = [l.split() for l in lines]
    ncols = max((len(r) for r in rows), default=0)
    down = [r[col] for col in range(ncols) for r in rows if col < len(r)]
    if down != sorted(want):
        c.problems.append("programs: listed (down the columns) %r, expected "
                          "%r:\n%s" % (down, sorted(want), indent(out)))
    for l in lines:
        if len(l) > LIST_WIDTH:
            c.problems.append("programs: a line of %d columns (at most %d): "
                              "%r" % (len(l), LIST_WIDTH, l))


def run_session(kernel, harts, mem, append, steps, log_path, what,
                timeout=180, extra=()):
    """Boot (@extra: more QEMU arguments), wait for the prompt, run
    steps(session, checker), shut down (unless the steps did), and fail
    with the console log on problems."""
    c = Checker()
    with console.Session(kernel, harts, mem, append, timeout=timeout,
                         extra=extra) as s:
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


def session_steps(s, c, programs):
    out = s.command("help")
    for cmd in COMMANDS:
        c.want("help", out, r"^  %s\b" % re.escape(cmd))

    # What the kernel's archive holds, as the build made it.
    out = s.command("programs")
    check_programs(c, out, programs)
    for name in ("hello", "exit42", "shell", "pf-anon"):
        c.want("programs", out, r"(^|\s)%s(\s|$)" % re.escape(name))
    m = c.want("run exit42", s.command("run exit42"), EXIT_RE % "exit42")
    if m and m.group(2) != "42":
        c.problems.append("exit42 exited with status %s" % m.group(2))

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

    # ^C at the prompt drops the line typed and shows the prompt again; it
    # is not kept for the next program (which it used to kill at once).
    s.type("ec\x03")
    s.wait_for(r"\^C\r*\nrivet> ")
    # ^C reaches a running program through the console server.
    s.type("run spin")
    s.child.send("\r")
    s.wait_for(r"spin: pid \d+ spinning")
    try:
        s.wait_for(r"was killed", timeout=1.5)
        c.problems.append("^C: spin was killed by the ^C typed at the "
                          "prompt before it ran")
    except pexpect.TIMEOUT:
        pass
    s.type("\x03")
    s.wait_prompt()
    c.want("^C", s.child.before.replace("\r", ""),
           r"^shell: spin \(pid \d+\) was killed with status -1$")
    # ^C ends what the program started too (KILL_TREE): `spin wait` runs
    # a spinning `spin` child, which used to go on as init's orphan.
    s.type("run spin wait")
    s.child.send("\r")
    s.wait_for(r"spin: pid (\d+) waiting for pid (\d+)")
    waiter, child = s.child.match.group(1), s.child.match.group(2)
    # The child may have said so first, before its parent's line.
    if not re.search(r"spin: pid %s spinning" % child, s.child.before):
        s.wait_for(r"spin: pid %s spinning" % child)
    s.type("\x03")
    s.wait_prompt()
    c.want("^C at spin wait", s.child.before.replace("\r", ""),
           r"^shell: spin \(pid %s\) was killed with status -1$" % waiter)
    # Marked with its parent, at once: ending (or reaped), not running.
    out = s.command("ps")
    if re.search(r"^\s*%s\s+\d+\s+\d+\s+running\s+spin$" % child, out,
                 re.M):
        c.problems.append("^C at spin wait: its child (pid %s) still runs:"
                          "\n%s" % (child, out))

    # The line being typed stays below what others print, whole: the
    # console server hides it (cursor back over prompt and text, erase),
    # prints the line, and shows it again. consoletest reads at its own
    # prompt while its other thread prints a tick every 250 ms.
    s.type("run consoletest read")
    s.child.send("\r")
    s.wait_for(r"consoletest> ")
    s.type("hello wor")
    # 22 columns: "consoletest> " and "hello wor".
    s.wait_for(r"\x1b\[22D\x1b\[Kconsoletest: tick \d+\r*\n"
               r"consoletest> hello wor")
    s.type("ld")
    s.child.send("\r")
    s.wait_prompt()
    out = s.child.before.replace("\r", "")
    c.want("consoletest read", out, r"^consoletest: read 'hello world'$")
    m = c.want("consoletest read", out, EXIT_RE % "consoletest")
    if m and m.group(2) != "0":
        c.problems.append("consoletest read exited with status %s"
                          % m.group(2))

    # An arrow key (ESC [ A) is skipped whole, not typed as "[A".
    s.type("na\x1b[Ames")
    s.wait_for(r"names")
    s.child.send("\r")
    s.wait_prompt()
    c.want("an arrow key in a line", s.child.before.replace("\r", ""),
           r"^\s*console\b")

    # A reader killed while it waits (^C: the shell kills the program)
    # takes neither the next line nor the server's thread. Twice: either
    # of the console server's two threads may be the one that held it.
    for _ in range(2):
        s.type("run consoletest read")
        s.child.send("\r")
        s.wait_for(r"consoletest> ")
        s.type("abc\x03")
        s.wait_for(r"shell: consoletest \(pid \d+\) was killed with "
                   r"status -1")
        s.wait_prompt()
        out = s.command("names", timeout=20)
        c.want("a line after a killed reader", out, r"^\s*console\b")

    out = s.command("shutdown", prompt=False)
    c.want("shutdown", out, r"^init: shutting down$")


def test_shell_session(kernel, build_dir, log_path, notes):
    """`make run`'s boot reaches the shell; its commands work; mistakes
    get messages; shutdown powers off."""
    programs = archive_programs(build_dir / "initrd.cpio")
    b = run_session(kernel, 4, "512M", "-- stress=off",
                    lambda s, c: session_steps(s, c, programs),
                    log_path, "shell session on 4 harts (as make run "
                    "STRESS=0)")
    notes("shell session: %.1f s" % b.seconds)


# c_mode file types and permissions (cpio(5), st_mode).
REG, DIR, LNK = 0o100755, 0o040755, 0o120777


def newc(members):
    """A newc archive of @members, (name, mode, data) in this order (as
    given: duplicates, "./" prefixes), and the trailer."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(
            members + [("TRAILER!!!", 0, b"")], 1):
        nm = name.encode() + b"\0"
        nlink = 2 if mode & 0o170000 == DIR & 0o170000 else 1
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
                  len(nm), 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + nm
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def test_programs_from_initrd(kernel, build_dir, tmp_path, log_path, notes):
    """`programs` lists the programs of the archive the kernel uses (an
    initrd from QEMU here, the shell the first process): a name once, at
    its last member, if that is a regular file; only names `run` takes.
    What it lists runs; what it leaves out does not."""
    bins = build_dir / "userland" / "root" / "bin"
    shell, hello, exit42 = ((bins / n).read_bytes()
                            for n in ("shell", "hello", "exit42"))
    long31, long32 = "a" * 31, "b" * 32
    cpio = tmp_path / "initrd.cpio"
    cpio.write_bytes(newc([
        ("bin", DIR, b""),
        ("bin/shell", REG, shell),
        ("bin/twice", REG, hello),      # replaced below
        ("bin/gone", REG, hello),       # a directory below: not a program
        ("./bin/seven", REG, exit42),   # read as bin/seven
        ("bin/sub", DIR, b""),
        ("bin/sub/deep", REG, hello),   # NAME with '/'
        ("bin/link", LNK, b"seven"),    # a symlink
        ("bin/" + long31, REG, exit42),
        ("bin/" + long32, REG, exit42),  # longer than SYS_SPAWN takes
        ("bin/", REG, hello),           # NAME empty
        ("top", REG, hello),            # not in bin/
        ("bin/twice", REG, exit42),
        ("bin/gone", DIR, b""),
        ("etc/manifest", REG, b"shell\n"),
    ]))

    def steps(s, c):
        check_programs(c, s.command("programs"),
                       {"shell", "twice", "seven", long31})
        for name in ("twice", "seven", long31):
            m = c.want("run " + name, s.command("run " + name),
                       EXIT_RE % name)
            if m and m.group(2) != "42":
                c.problems.append("%s exited with status %s, expected 42 "
                                  "(exit42)" % (name, m.group(2)))
        for name in ("gone", "link", "deep", long32):
            c.want("run " + name, s.command("run " + name), r"^shell: run: ")
        out = s.command("exit", prompt=False)
        c.want("exit", out, r"^shell: exiting")

    b = run_session(kernel, 2, "256M", "init=shell", steps, log_path,
                    "programs of an initrd, init=shell",
                    extra=["-initrd", str(cpio)])
    if not b.grep(r"^initrd: using the initrd from the device tree"):
        pytest.fail("the kernel did not use the initrd", pytrace=False)
    notes("programs of an initrd: %.1f s" % b.seconds)


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
