"""Booting through U-Boot, as on the VisionFive 2.

Debian's u-boot-qemu (qemu-riscv64_smode/u-boot.bin) runs under OpenSBI
as QEMU's -kernel, finds /extlinux/extlinux.conf on the SD-card image
(scripts/mksdcard.sh, `make sdcard`) on a virtio disk, in its FAT
partition 3 (where StarFive's U-Boot looks), and starts
rivet.bin with booti (the RISC-V Image header) and its own device tree.
The same U-Boot also takes typed commands, as a board owner would type
them at the VisionFive 2's prompt (docs/visionfive2.md): from the disk
(booti, bootm) and over TFTP from QEMU's built-in server.
"""
import os
import shutil
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
    # Distro boot names the partition it scans; standard boot may not.
    scans = [l for l in lines if l.startswith("Scanning virtio 0:")]
    if scans and "Scanning virtio 0:3..." not in scans:
        problems.append("U-Boot scanned %s, not partition 3" % scans)
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "U-Boot extlinux boot (%s)"
            % res.summary())
    notes("U-Boot + extlinux: %s in %.1f s" % (res.summary(), b.seconds))


# What a board owner types after stopping autoboot, per way of loading
# the kernel; each line waits for U-Boot's prompt. The last command
# starts the kernel with the device tree U-Boot already has. The TFTP
# server is QEMU's own (user networking, at 10.0.2.2), serving a copy of
# rivet.bin.
TYPED = {
    "booti": ["load virtio 0:3 ${kernel_addr_r} /rivet.bin",
              "booti ${kernel_addr_r} - ${fdtcontroladdr}"],
    "bootm": ["load virtio 0:3 ${kernel_addr_r} /rivet.itb",
              "bootm ${kernel_addr_r} - ${fdtcontroladdr}"],
    "tftp": ["setenv autoload no", "dhcp", "setenv serverip 10.0.2.2",
             "tftpboot ${kernel_addr_r} rivet.bin",
             "booti ${kernel_addr_r} - ${fdtcontroladdr}"],
}


@pytest.mark.skipif(not os.path.exists(UBOOT), reason="no u-boot-qemu")
@pytest.mark.parametrize("how", sorted(TYPED))
def test_uboot_typed_commands(kernel, tmp_path, log_path, how):
    """Stop autoboot and type the commands a board owner would: load the
    Image (booti) or the FIT image (bootm) from the disk, or the Image over
    TFTP, and start it with the device tree U-Boot already has."""
    import pexpect

    itb = os.path.join(os.path.dirname(kernel), "rivet.itb")
    if how == "bootm" and not os.path.exists(itb):
        pytest.skip("no rivet.itb (make image)")
    if how == "tftp":
        tftp = tmp_path / "tftp"
        tftp.mkdir()
        shutil.copy(kernel, tftp / "rivet.bin")
        extra = ["-netdev", "user,id=n0,tftp=%s" % tftp,
                 "-device", "virtio-net-device,netdev=n0"]
    else:
        img = tmp_path / "sdcard.img"
        subprocess.run(["scripts/mksdcard.sh", kernel, str(img)], check=True,
                       capture_output=True)
        extra = ["-drive", "file=%s,if=none,format=raw,id=hd0" % img,
                 "-device", "virtio-blk-device,drive=hd0"]
    cmd = qemu.command(UBOOT, 2, "512M", extra=extra)
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
        for line in TYPED[how][:-1]:
            c.expect("=> ")
            c.sendline(line)
        c.expect("=> ")
        c.sendline(TYPED[how][-1])
        i = c.expect(["rivet: powering off", "panic:", "ERROR",
                      pexpect.EOF, pexpect.TIMEOUT])
        c.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10)
    finally:
        c.close(force=True)
        text = "".join(transcript)
    ok = i == 0 and "ok 1 boot" in text and "not ok" not in text
    if how == "tftp" and "Bytes transferred = " not in text:
        ok = False
    if not ok:
        pytest.fail("U-Boot %s by hand failed; console log: %s"
                    % (how, log_path(text)), pytrace=False)
