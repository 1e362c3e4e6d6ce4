"""console - type at rivet's shell over the QEMU console, as a person would.

    with console.Session(kernel, harts=4, mem="512M") as s:  # as `make run`
        s.wait_prompt()
        out = s.command("ps")          # the text between the echo and the
                                       # next prompt, carriage returns removed
        s.command("shutdown", prompt=False)   # waits for QEMU to end
    b = s.boot                         # a qemu.Boot of the whole session

Keys go out one at a time, 20 ms apart: the kernel polls the UART every
tick (10 ms) while the shell waits for input, and the UART's receive FIFO
holds 16 bytes. A command's output is everything up to the next prompt,
so lines that other processes print meanwhile (init's restart messages)
may be in it too. The whole console log ends up in s.boot (for
check_boot, verdict and the saved log) when the session closes.
"""

import io
import re
import time

import pexpect

import qemu

PROMPT = "rivet> "
KEY_DELAY = 0.02


class Session:
    def __init__(self, kernel, harts, mem, append=None, timeout=120,
                 extra=()):
        """@extra: more QEMU arguments (e.g. ["-initrd", path])."""
        self.cmd = qemu.command(kernel, harts, mem, append, extra=extra)
        self.boot = qemu.Boot(self.cmd, timeout)
        self.timeout = timeout
        self.sink = io.StringIO()
        self.t0 = time.monotonic()
        self.child = pexpect.spawn(self.cmd[0], self.cmd[1:],
                                   encoding="utf-8", codec_errors="replace",
                                   echo=False, dimensions=(50, 200),
                                   searchwindowsize=8192)
        self.child.logfile_read = self.sink

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _expect(self, patterns, timeout):
        """Index of the pattern seen; raises pexpect.TIMEOUT/EOF (with a
        panic in the log, EOF is reported as what it is)."""
        return self.child.expect(patterns, timeout=timeout)

    def wait_prompt(self, timeout=None):
        self._expect([re.escape(PROMPT)], timeout or self.timeout)

    def wait_for(self, regex, timeout=None):
        """Wait for @regex on the console (output of something else)."""
        self._expect([regex], timeout or self.timeout)
        return self.child.after

    def type(self, text):
        for ch in text:
            self.child.send(ch)
            time.sleep(KEY_DELAY)

    def command(self, line, timeout=None, prompt=True):
        """Type @line and Enter; return what it printed before the next
        prompt (or, with prompt=False, until QEMU ends)."""
        self.type(line)
        self._expect([re.escape(line)], 10)      # the echo
        self.child.send("\r")
        if prompt:
            self._expect([re.escape(PROMPT)], timeout or self.timeout)
            text = self.child.before
        else:
            self._expect([pexpect.EOF], timeout or self.timeout)
            text = self.child.before
        return text.replace("\r", "").lstrip("\n")

    def close(self):
        b = self.boot
        if self.child.isalive():
            try:
                self.child.expect([pexpect.EOF], timeout=0.5)
            except (pexpect.TIMEOUT, pexpect.EOF):
                pass
        b.exited = not self.child.isalive()
        if not b.exited:
            b.timed_out = True
            self.child.terminate(force=True)
        self.child.close(force=True)
        b.exitstatus = self.child.exitstatus
        b.signalstatus = self.child.signalstatus
        b.seconds = time.monotonic() - self.t0
        b.log = self.sink.getvalue()
