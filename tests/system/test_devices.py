"""Devices: the first process holds the device tree's devices and drives
the console UART itself (`init=devtest`, a user-space UART driver).

It maps the UART (the kernel then logs to its ring instead of writing to
the UART), writes to the UART directly, prints the kernel's log itself
(SYS_KLOG_READ), and reads a key we type through the UART's interrupt
bound to a notification. When it ends the kernel takes the console back.
"""
import re

import pexpect
import pytest

import qemu


def test_user_uart_driver(kernel, log_path):
    c, transcript = qemu.spawn(qemu.command(kernel, 2, "256M",
                                            append="init=devtest"))
    problems = []
    try:
        c.expect("devtest: press a key")
        c.send("q")
        c.expect("rivet: powering off")
        c.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=5)
    except (pexpect.TIMEOUT, pexpect.EOF):
        problems.append("the run did not get through (see the log)")
    finally:
        c.close(force=True)
    text = transcript.text()
    lines = text.splitlines()

    def has(regex):
        return any(re.search(regex, l) for l in lines)

    want = [
        r"^devices: \d+ handed to the first process$",
        r"^devtest: device 0x[0-9a-f]+ ns16550a /soc/serial@10000000 "
        r"base=0x10000000 irq=10 console$",
        r"^devtest: device 0x[0-9a-f]+ virtio,mmio /soc/virtio_mmio@",
        r"^console: handed over to pid 1 \(devtest\)",
        r"^devtest: this line went straight to the UART$",
        # Kernel text written after the hand-over, printed by devtest:
        r"^devtest: klog: devtest: own UART at 0x[0-9a-f]+$",
        r"^devtest: klog: proc: killed pid \d+ \(fault\), thread \d+, "
        r"hart \d+: store/AMO page fault at pc 0x[0-9a-f]+, address 0x8$",
        r"^devtest: got 'q' by interrupt$",
        r"^init: exited with status 0$",
    ]
    for w in want:
        if not has(w):
            problems.append("no line matching %r" % w)
    # The kernel kept none of what it hands out: no PLIC, no CLINT.
    for kept in ("riscv,plic0", "riscv,clint0", "sifive,plic"):
        if has(r"^devtest: device .*%s" % re.escape(kept)):
            problems.append("%s was handed out" % kept)
    # Before the hand-over the kernel's own lines came straight out, not
    # through devtest's log drain.
    if has(r"^devtest: klog: init: started"):
        problems.append("a line from before the hand-over went to the log")
    if problems:
        pytest.fail("; ".join(problems) + " (log: %s)" % log_path(text),
                    pytrace=False)
