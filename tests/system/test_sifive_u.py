"""The board-like machine: QEMU sifive_u (HiFive Unleashed).

Hart 0 is a monitor core without an MMU, harts 1-4 have Sv39, the console
is a SiFive UART, the timebase is 1 MHz, there is no Sstc and no shutdown
device: the kernel must skip hart 0 with its log line, bring 4 harts
online, pass its tests, and end with a final line, after which the harness
ends QEMU.

Three kernels boot there: the default build (qemu_virt, <build>/rivet.bin),
and two configurations built as a user would build them, each in its own
O= directory under pytest's tmp_path: qemu_sifive_u_defconfig (the
machine's own configuration) and visionfive2_defconfig (the board's, with
the board's no-ASID setting, since the U74 has no ASID bits).
"""

import subprocess
from pathlib import Path

import qemu
from test_boot import check_ktap, verdict

ROOT = Path(__file__).resolve().parent.parent.parent
END_RE = r"rivet: no shutdown device"
BUILD_TIMEOUT = 600


def build(board, out):
    """`make O=out <board>_defconfig` then `make O=out`, from the top of the
    tree; returns the path of rivet.bin. Fails the test if make does."""
    for target in (["%s_defconfig" % board], ["-j2"]):
        r = subprocess.run(["make", "-s", "O=%s" % out] + target, cwd=ROOT,
                           capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
        assert r.returncode == 0, "make %s failed:\n%s%s" % (
            " ".join(target), r.stdout, r.stderr)
    return out / "rivet.bin"


def boot_sifive_u(kernel, append):
    return qemu.boot(str(kernel), 5, "512M", append=append, timeout=120,
                     end_re=END_RE, machine="sifive_u")


def sifive_u_problems(b, board=None):
    """What is wrong with a sifive_u boot, as a list of strings; @board:
    the configuration name the banner must carry, e.g. "qemu_sifive_u"."""
    problems = []
    lines = [l.strip() for l in b.lines]
    if not b.ended_by_line:
        problems.append("no final %r line: %s" % (END_RE, b.describe()))
    wants = ["smp: skipping hart 0 (no MMU)", "smp: 4 harts online (boot hart"]
    if board:
        wants.append("rivet 0.1 (%s) on SiFive HiFive Unleashed" % board)
    for want in wants:
        if not any(l.startswith(want) for l in lines):
            problems.append("no line starting %r" % want)
    if not any(l.startswith("console: ") and "sifive,uart0" in l
               for l in lines):
        problems.append("console is not the SiFive UART")
    if not any("timebase 1000000 Hz" in l and "SBI TIME" in l
               for l in lines):
        problems.append("timer: expected 1 MHz through SBI TIME (no Sstc)")
    if any("panic:" in l for l in lines):
        problems.append("panic on the console")
    return problems


def test_sifive_u_ktest(kernel, log_path, notes):
    """The default build (qemu_virt) runs unchanged on sifive_u."""
    b = boot_sifive_u(kernel, "ktest")
    problems = sifive_u_problems(b)
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "sifive_u, 5 harts (%s)" % res.summary())
    notes("sifive_u: %s in %.1f s" % (res.summary(), b.seconds))


def test_qemu_sifive_u_build(tmp_path, log_path, notes):
    """qemu_sifive_u_defconfig, built as a user would, runs its tests on
    its machine, using the ASIDs QEMU offers."""
    kernel = build("qemu_sifive_u", tmp_path / "sifive_u")
    b = boot_sifive_u(kernel, "ktest")
    problems = sifive_u_problems(b, "qemu_sifive_u")
    lines = [l.strip() for l in b.lines]
    if not any(l.startswith("mm: satp.ASID has 16 bits") for l in lines):
        problems.append("expected QEMU's 16 ASID bits in use")
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "qemu_sifive_u build on sifive_u (%s)"
            % res.summary())
    notes("qemu_sifive_u build: %s in %.1f s" % (res.summary(), b.seconds))


def test_visionfive2_build_on_sifive_u(tmp_path, log_path, notes):
    """The VisionFive 2 configuration, built as a board owner would, runs
    its tests on the closest emulated relative with the board's no-ASID
    setting (the U74 has no ASID bits)."""
    kernel = build("visionfive2", tmp_path / "vf2")
    b = boot_sifive_u(kernel, "ktest noasid")
    problems = sifive_u_problems(b, "visionfive2")
    lines = [l.strip() for l in b.lines]
    if not any("mm: satp.ASID has" in l and "not used (noasid)" in l
               for l in lines):
        problems.append("noasid not in force")
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "visionfive2 build on sifive_u (%s)"
            % res.summary())
    notes("visionfive2 build: %s in %.1f s" % (res.summary(), b.seconds))
