"""The board-like machine: QEMU sifive_u (HiFive Unleashed).

Hart 0 is a monitor core without an MMU, harts 1-4 have Sv39, the console
is a SiFive UART, the timebase is 1 MHz, there is no Sstc and no shutdown
device: the kernel must skip hart 0 with its log line, bring 4 harts
online, pass its tests, and end with a final line, after which the harness
ends QEMU.
"""

import qemu
from test_boot import check_ktap, verdict

END_RE = r"rivet: no shutdown device"


def test_sifive_u_ktest(kernel, log_path, notes):
    b = qemu.boot(kernel, 5, "512M", append="ktest", timeout=120,
                  end_re=END_RE, machine="sifive_u")
    problems = []
    lines = [l.strip() for l in b.lines]
    if not b.ended_by_line:
        problems.append("no final %r line: %s" % (END_RE, b.describe()))
    for want in ("smp: skipping hart 0 (no MMU)",
                 "smp: 4 harts online (boot hart"):
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
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "sifive_u, 5 harts (%s)" % res.summary())
    notes("sifive_u: %s in %.1f s" % (res.summary(), b.seconds))


def test_visionfive2_build_on_sifive_u(tmp_path, log_path, notes):
    """The VisionFive 2 configuration, built as a board owner would, runs
    its tests on the closest emulated relative with the board's no-ASID
    setting (the U74 has no ASID bits)."""
    import subprocess
    out = tmp_path / "vf2"
    for target in (["visionfive2_defconfig"], []):
        r = subprocess.run(["make", "-s", "O=%s" % out] + target,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    b = qemu.boot(str(out / "rivet.bin"), 5, "512M", append="ktest noasid",
                  timeout=120, end_re=END_RE, machine="sifive_u")
    problems = []
    lines = [l.strip() for l in b.lines]
    if not b.ended_by_line:
        problems.append("no final %r line: %s" % (END_RE, b.describe()))
    for want in ("rivet 0.1 (visionfive2)", "smp: 4 harts online",
                 "mm: satp.ASID has"):
        if not any(want in l for l in lines):
            problems.append("no line with %r" % want)
    if not any("not used (noasid)" in l for l in lines):
        problems.append("noasid not in force")
    if any("panic:" in l for l in lines):
        problems.append("panic on the console")
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "visionfive2 build on sifive_u (%s)"
            % res.summary())
