"""User mode: programs from the boot archive run with init=NAME.

Each boot runs one program as the first process; the kernel prints
`init: exited with status S` when it ends and powers off. Faulting
programs are killed with one `proc: killed ...` line while the kernel runs
on; `utest` is a userland KTAP suite (demand-zero memory, stack growth, bad
system-call arguments) run in both page-table locking modes.
"""
import re

import pytest

from test_boot import check_boot, check_ktap, verdict

EXIT_RE = re.compile(r"^init: exited with status (-?\d+)")


def exit_status(b):
    for line in b.lines:
        m = EXIT_RE.match(line.strip())
        if m:
            return int(m.group(1))
    return None


@pytest.mark.parametrize("prog,status,expect", [
    ("hello", 0, r"^hello from user space, pid 1$"),
    ("exit42", 42, None),
    ("fault", -1, r"^proc: killed pid 1 \(fault\), thread \d+, hart \d+: "
                  r"store/AMO page fault at pc 0x[0-9a-f]+, address 0x8$"),
])
def test_program(boot, prog, status, expect, log_path):
    """A program runs, prints, and its exit status reaches init."""
    b = boot(2, "256M", append="init=%s" % prog)
    problems = check_boot(b, 2)
    got = exit_status(b)
    if got != status:
        problems.append("init: exit status %r, expected %d" % (got, status))
    if expect and not any(re.match(expect, l.strip()) for l in b.lines):
        problems.append("no console line matching %r" % expect)
    verdict(b, problems, log_path, "init=%s" % prog)


def test_arguments(boot, log_path):
    """Words after ' -- ' on the command line reach main's argv."""
    b = boot(1, "128M", append="init=hello -- one two=2 three")
    problems = check_boot(b, 1)
    want = ['hello: argv[0] = "hello"', 'hello: argv[1] = "one"',
            'hello: argv[2] = "two=2"', 'hello: argv[3] = "three"']
    lines = [l.strip() for l in b.lines]
    for w in want:
        if w not in lines:
            problems.append("no line %r" % w)
    if exit_status(b) != 0:
        problems.append("exit status %r" % exit_status(b))
    verdict(b, problems, log_path, "init=hello with arguments")


def test_missing_program(boot, log_path):
    """init=NAME for a program that is not there: a message, no panic."""
    b = boot(1, "128M", append="init=nosuch")
    problems = check_boot(b, 1)
    if not any("init: no program 'nosuch' in the boot archive" in l
               for l in b.lines):
        problems.append("no 'init: no program' message")
    verdict(b, problems, log_path, "init=nosuch")


@pytest.mark.parametrize("harts", [1, 4, 8])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_utest(boot, harts, mode, log_path, notes):
    """The userland KTAP suite, in both page-table locking modes."""
    b = boot(harts, "256M", append="init=utest ptlock=%s" % mode)
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    if exit_status(b) != 0:
        problems.append("utest exit status %r, expected 0"
                        % exit_status(b))
    verdict(b, problems, log_path, "utest, %d harts, ptlock=%s (%s)"
            % (harts, mode, res.summary()))


def test_initrd_replaces_archive(boot, tmp_path, log_path):
    """An initrd named in /chosen (QEMU -initrd) is the boot archive."""
    import os
    import shutil
    import subprocess
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    build = os.environ.get("O", "build")
    shutil.copy(os.path.join(build, "userland", "root", "bin", "exit42"),
                root / "bin" / "seven")
    cpio = tmp_path / "initrd.cpio"
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"],
                       input=b"bin\nbin/seven\n", stdout=out, cwd=root,
                       check=True)
    b = boot(1, "256M", append="init=seven", extra=["-initrd", str(cpio)])
    problems = check_boot(b, 1)
    if not any("initrd: using the initrd from the device tree" in l
               for l in b.lines):
        problems.append("no 'initrd: using the initrd' line")
    if exit_status(b) != 42:
        problems.append("exit status %r, expected 42" % exit_status(b))
    verdict(b, problems, log_path, "-initrd with bin/seven")


def test_initrd_garbage_falls_back(boot, tmp_path, log_path):
    """An initrd that is not a cpio archive is refused with a message."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 16)
    b = boot(1, "256M", append="init=exit42", extra=["-initrd", str(junk)])
    problems = check_boot(b, 1)
    if not any("are not a cpio archive" in l for l in b.lines):
        problems.append("no 'not a cpio archive' message")
    if exit_status(b) != 42:
        problems.append("exit status %r, expected 42 (built-in archive)"
                        % exit_status(b))
    verdict(b, problems, log_path, "-initrd with garbage")
