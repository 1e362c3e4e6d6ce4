"""Booting through U-Boot, as on the VisionFive 2.

Debian's u-boot-qemu (qemu-riscv64_smode/u-boot.bin) runs under OpenSBI
as QEMU's -kernel, finds /extlinux/extlinux.conf on the SD-card image
(scripts/mksdcard.sh, `make sdcard`) on a virtio disk, and starts
rivet.bin with booti (the RISC-V Image header) and its own device tree.
"""
import os
import subprocess

import pytest

import qemu
from test_boot import check_boot, check_ktap, verdict

UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"


@pytest.mark.skipif(not os.path.exists(UBOOT), reason="no u-boot-qemu")
def test_uboot_extlinux(kernel, tmp_path, log_path, notes):
    img = tmp_path / "sdcard.img"
    subprocess.run(["scripts/mksdcard.sh", kernel, str(img), "ktest"],
                   check=True, capture_output=True)
    b = qemu.boot(UBOOT, 4, "512M", timeout=120,
                  extra=["-drive", "file=%s,if=none,format=raw,id=hd0" % img,
                         "-device", "virtio-blk-device,drive=hd0"])
    problems = check_boot(b, 4)
    lines = [l.strip() for l in b.lines]
    for want in ("Retrieving file: /extlinux/extlinux.conf",
                 "Retrieving file: /rivet.bin", "Starting kernel ..."):
        if want not in lines:
            problems.append("U-Boot did not say %r" % want)
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "U-Boot extlinux boot (%s)"
            % res.summary())
    notes("U-Boot + extlinux: %s in %.1f s" % (res.summary(), b.seconds))


@pytest.mark.skipif(not os.path.exists(UBOOT), reason="no u-boot-qemu")
@pytest.mark.parametrize("how", ["booti", "bootm"])
def test_uboot_typed_commands(kernel, tmp_path, log_path, how):
    """Stop autoboot and type the commands a board owner would: load the
    Image (booti) or the FIT image (bootm) from the disk and start it with
    the device tree U-Boot already has."""
    import pexpect

    itb = os.path.join(os.path.dirname(kernel), "rivet.itb")
    if how == "bootm" and not os.path.exists(itb):
        pytest.skip("no rivet.itb (make image)")
    img = tmp_path / "sdcard.img"
    subprocess.run(["scripts/mksdcard.sh", kernel, str(img)], check=True,
                   capture_output=True)
    cmd = qemu.command(UBOOT, 2, "512M", extra=[
        "-drive", "file=%s,if=none,format=raw,id=hd0" % img,
        "-device", "virtio-blk-device,drive=hd0"])
    c = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8",
                      codec_errors="replace", timeout=60)
    transcript = []

    class Sink:
        def write(self, s):
            transcript.append(s)

        def flush(self):
            pass

    c.logfile_read = Sink()
    try:
        c.expect("Hit any key to stop autoboot")
        c.send(" ")
        c.expect("=> ")
        c.sendline("setenv bootargs ktest=boot")
        c.expect("=> ")
        if how == "booti":
            c.sendline("load virtio 0:1 ${kernel_addr_r} /rivet.bin")
            c.expect("=> ")
            c.sendline("booti ${kernel_addr_r} - ${fdtcontroladdr}")
        else:
            c.sendline("load virtio 0:1 ${kernel_addr_r} /rivet.itb")
            c.expect("=> ")
            c.sendline("bootm ${kernel_addr_r} - ${fdtcontroladdr}")
        i = c.expect(["rivet: powering off", "panic:", "ERROR",
                      pexpect.EOF, pexpect.TIMEOUT])
        c.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10)
    finally:
        c.close(force=True)
        text = "".join(transcript)
    ok = i == 0 and "ok 1 boot" in text and "not ok" not in text
    if not ok:
        pytest.fail("U-Boot %s by hand failed; console log: %s"
                    % (how, log_path(text)), pytrace=False)
