"""qemu - boot rivet in qemu-system-riscv64 under pexpect and keep the log.

    b = qemu.boot("build/rivet.bin", harts=4, mem="512M", append="ktest",
                  timeout=60)
    b.exited          # QEMU ended by itself (the kernel powered off)
    b.lines           # console lines, carriage returns removed
    b.describe()      # one line: how the boot ended, for assertion messages
    qemu.dump_dtb("virt.dtb", harts=2, mem="128M")   # the guest's FDT

The command line is the one `make run` uses (see QEMU_ARGS in the
Makefile), plus -no-reboot so that a kernel that resets instead of powering
off ends the run at once instead of booting again until the timeout.
Environment: $QEMU names another QEMU binary.
"""

import io
import os
import re
import shlex
import subprocess
import time

import pexpect

QEMU = os.environ.get("QEMU") or "qemu-system-riscv64"
PANIC_RE = re.compile(r"panic:")
# How long to keep reading after a panic line, for the register dump and
# backtrace, before QEMU is killed (a panicked kernel may just spin).
PANIC_GRACE = 3.0


def command(kernel, harts, mem, append=None, machine="virt", bios="default",
            extra=()):
    cmd = [QEMU, "-machine", machine, "-smp", str(harts), "-m", str(mem),
           "-nographic", "-bios", bios, "-kernel", str(kernel), "-no-reboot"]
    if append is not None:
        cmd += ["-append", append]
    return cmd + list(extra)


class Transcript:
    """A pexpect logfile_read that keeps everything read, as text."""

    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def flush(self):
        pass

    def text(self):
        return "".join(self.parts).replace("\r", "")


def spawn(cmd, timeout=60):
    """A QEMU run to type at: (pexpect child, its Transcript)."""
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8",
                          codec_errors="replace", timeout=timeout)
    t = Transcript()
    child.logfile_read = t
    return child, t


class Boot:
    """The outcome of one QEMU run."""

    def __init__(self, cmd, timeout):
        self.cmd = cmd
        self.timeout = timeout
        self.log = ""
        self.exited = False         # QEMU ended by itself before the timeout
        self.exitstatus = None
        self.signalstatus = None
        self.timed_out = False
        self.killed_after_panic = False
        self.ended_by_line = False  # the harness ended QEMU (end_re)
        self.seconds = 0.0

    @property
    def lines(self):
        return self.log.replace("\r", "").split("\n")

    def grep(self, regex):
        """Console lines that match @regex (re.search)."""
        r = re.compile(regex)
        return [line for line in self.lines if r.search(line)]

    def describe(self):
        if self.timed_out:
            return "QEMU still running after %d s: killed" % self.timeout
        if self.killed_after_panic:
            return "kernel panicked; QEMU killed %.0f s later" % PANIC_GRACE
        if self.signalstatus is not None:
            return "QEMU killed by signal %d after %.1f s" % (
                self.signalstatus, self.seconds)
        return "QEMU exited with status %s after %.1f s" % (
            self.exitstatus, self.seconds)

    def transcript(self):
        """The console log with a header naming the command and the outcome."""
        return "$ %s\n# %s\n%s" % (shlex.join(self.cmd), self.describe(),
                                   self.log.replace("\r", ""))


def dump_dtb(path, harts, mem, machine="virt", timeout=30):
    """Write the device tree QEMU would give a guest with @harts and @mem
    to @path (a DTB). Raises subprocess.CalledProcessError on failure."""
    cmd = [QEMU, "-machine", "%s,dumpdtb=%s" % (machine, path),
           "-smp", str(harts), "-m", str(mem), "-nographic"]
    subprocess.run(cmd, check=True, capture_output=True, text=True,
                   stdin=subprocess.DEVNULL, timeout=timeout)


def boot(kernel, harts, mem, append=None, timeout=60, end_re=None, **kw):
    """Run QEMU until it exits, it panics, or @timeout seconds pass.

    @end_re: a final line after which the harness ends QEMU itself, for
    machines without a shutdown device (sifive_u); b.ended_by_line is set
    then."""
    cmd = command(kernel, harts, mem, append, **kw)
    b = Boot(cmd, timeout)
    sink = io.StringIO()
    t0 = time.monotonic()
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8",
                          codec_errors="replace", echo=False,
                          dimensions=(50, 200), searchwindowsize=4096)
    child.logfile_read = sink
    try:
        pats = [pexpect.EOF, PANIC_RE] + ([end_re] if end_re else [])
        i = child.expect(pats, timeout=timeout)
        if i == 2:
            b.ended_by_line = True
            child.expect([pexpect.TIMEOUT], timeout=0.5)  # the tail
        elif i == 1:
            left = max(1.0, min(PANIC_GRACE, timeout - (time.monotonic() - t0)))
            try:
                child.expect(pexpect.EOF, timeout=left)
            except pexpect.TIMEOUT:
                b.killed_after_panic = True
        b.exited = not b.killed_after_panic
    except pexpect.TIMEOUT:
        b.timed_out = True
    finally:
        b.seconds = time.monotonic() - t0
        if child.isalive():
            child.terminate(force=True)
        child.close(force=True)
        b.exitstatus = child.exitstatus
        b.signalstatus = child.signalstatus
        b.log = sink.getvalue()
    return b
