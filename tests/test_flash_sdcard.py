"""scripts/flash-sdcard: writes what it should, refuses what it must.

The script writes an SD-card image to a device, so these tests take care
that no bug in it can touch a real disk:

  * Plain files in a temporary directory are the usual target: written,
    refused (answer "n", no answer, the image itself, a missing /dev/ name,
    a directory), or left alone (--dry-run).
  * The disk that holds / is found with lsblk (findmnt's source of /, then
    its parents down to the disk), independently of the script's own sysfs
    walk, and handed to the script with --dry-run --yes --force. Three
    guards hold at once: --dry-run (the script exits before dd); a `dd` on
    PATH that only records that it was called and fails; and the script
    runs as nobody (when the tests run as root), after checking that nobody
    cannot open that device for writing, so the kernel itself would refuse
    a write. A non-root user who can write that device skips the test.
  * The other device checks (mounted, not removable, too small, a
    partition) and one real device write use a loop device over a file in
    a temporary directory: whatever the script does, it can only change
    that file. They need root and loop devices, and skip without them.
"""

import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "flash-sdcard"
NOBODY = 65534
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="no script")


def run(args, stdin="", path_prefix=None, as_nobody=False):
    env = dict(os.environ)
    if path_prefix:
        env["PATH"] = "%s:%s" % (path_prefix, env.get("PATH", "/usr/bin:/bin"))
    cmd = [str(SCRIPT)] + [str(a) for a in args]
    if as_nobody:
        cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
               "--clear-groups", "--"] + cmd
    return subprocess.run(cmd, input=stdin, text=True, capture_output=True,
                          cwd=ROOT, env=env, timeout=TIMEOUT)


@pytest.fixture
def image(tmp_path):
    """A 3 MB stand-in for build/sdcard.img (not a multiple of dd's 4 MiB
    block, nor of 512)."""
    p = tmp_path / "sdcard.img"
    p.write_bytes(os.urandom(3 * 1000 * 1000 + 17))
    return p


@pytest.fixture
def dd_trap():
    """A directory, readable by nobody, whose `dd` records its call and
    fails. Yields (dir, marker): marker exists iff dd was run."""
    d = Path(tempfile.mkdtemp(prefix="rivet-flash-"))
    try:
        os.chmod(d, 0o755)
        # dd may run as nobody: it leaves its mark in a directory anyone
        # can write, while nobody but us can replace dd itself.
        marks = d / "marks"
        marks.mkdir()
        os.chmod(marks, 0o1777)
        marker = marks / "dd-was-called"
        dd = d / "dd"
        dd.write_text("#!/bin/sh\n: > %s\necho 'test dd trap: dd called' >&2\n"
                      "exit 99\n" % marker)
        dd.chmod(0o755)
        yield d, marker
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------ plain files --

def test_writes_plain_file(image, tmp_path):
    out = tmp_path / "card.img"
    r = run(["--yes", out, image])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == image.read_bytes()
    assert "new plain file" in r.stdout


def test_replaces_plain_file(image, tmp_path):
    out = tmp_path / "card.img"
    out.write_bytes(b"x" * (8 << 20))
    r = run(["-y", out, image])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == image.read_bytes()


@pytest.mark.parametrize("answer,written", [("y\n", True), ("yes\n", True),
                                            ("n\n", False), ("\n", False),
                                            ("", False)])
def test_asks_first(image, tmp_path, answer, written):
    out = tmp_path / "card.img"
    r = run([out, image], stdin=answer)
    assert "[y/N]" in r.stderr
    if written:
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == image.read_bytes()
    else:
        assert r.returncode == 1
        assert "not written" in r.stderr
        assert not out.exists()


def test_dry_run_writes_nothing(image, tmp_path, dd_trap):
    trap, marker = dd_trap
    out = tmp_path / "card.img"
    r = run(["--dry-run", "--yes", out, image], path_prefix=trap)
    assert r.returncode == 0, r.stderr
    assert "dry run" in r.stdout and "nothing written" in r.stdout
    assert not out.exists()
    assert not marker.exists()


@pytest.mark.parametrize("case", ["image itself", "directory", "no device",
                                  "no image", "usage"])
def test_refusals_on_files(image, tmp_path, dd_trap, case):
    trap, marker = dd_trap
    args, rc, words = {
        "image itself": (["-y", image, image], 1, "the image itself"),
        "directory": (["-y", tmp_path, image], 1, "neither a block device"),
        "no device": (["-y", "/dev/rivet-no-such-card", image], 1,
                      "no such device"),
        "no image": (["-y", tmp_path / "out", tmp_path / "missing.img"], 1,
                     "no image"),
        "usage": (["-y"], 2, "usage:"),
    }[case]
    before = image.read_bytes()
    r = run(args, path_prefix=trap)
    assert r.returncode == rc, r.stdout + r.stderr
    assert words in r.stderr
    assert not marker.exists()
    assert image.read_bytes() == before


# --------------------------------------------------- the disk holding / --

def root_disk():
    """/dev/NAME of the whole disk under /, from findmnt and lsblk, or
    None (/ on overlay or tmpfs, as in many containers)."""
    try:
        src = subprocess.run(["findmnt", "-n", "-o", "SOURCE", "/"],
                             capture_output=True, text=True, timeout=10
                             ).stdout.split()
        if not src or not src[0].startswith("/dev/"):
            return None
        tree = subprocess.run(["lsblk", "-s", "-n", "-r", "-o", "NAME,TYPE",
                               src[0].split("[")[0]],
                              capture_output=True, text=True, timeout=10
                              ).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return None
    disks = [l.split()[0] for l in tree if l.split()[1:] == ["disk"]]
    if not disks:
        return None
    node = "/dev/" + disks[0]
    try:
        if not stat.S_ISBLK(os.stat(node).st_mode):
            return None
    except OSError:
        return None
    return node


def test_refuses_root_disk(image, dd_trap):
    disk = root_disk()
    if disk is None:
        pytest.skip("/ is not on a block device here")
    trap, marker = dd_trap
    as_nobody = os.geteuid() == 0
    if as_nobody:
        if shutil.which("setpriv") is None:
            pytest.skip("no setpriv to drop root")
        # The kernel must refuse nobody a write to that disk, whatever the
        # script does.
        w = subprocess.run(["setpriv", "--reuid=%d" % NOBODY,
                            "--regid=%d" % NOBODY, "--clear-groups", "--",
                            "test", "-w", disk], timeout=10)
        if w.returncode == 0:
            pytest.skip("nobody can write %s here" % disk)
        # Where nobody can read it (pytest's tmp_path is root's alone).
        shutil.copy(image, trap / "sdcard.img")
        image = trap / "sdcard.img"
        os.chmod(image, 0o644)
    elif os.access(disk, os.W_OK):
        pytest.skip("this user can write %s: not pointing the script at it"
                    % disk)
    r = run(["--dry-run", "--yes", "--force", disk, image],
            path_prefix=trap, as_nobody=as_nobody)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the disk that holds /" in r.stderr, r.stderr
    assert "dry run" not in r.stdout
    assert not marker.exists()


# -------------------------------------------------------- loop devices --

class Loop:
    """A loop device over a file in a temporary directory; detached (and
    unmounted) by close()."""

    def __init__(self, size, partitioned=False):
        self.dir = Path(tempfile.mkdtemp(prefix="rivet-loop-"))
        self.backing = self.dir / "backing.img"
        self.mnt = None
        with open(self.backing, "wb") as f:
            f.truncate(size)
        if partitioned:
            subprocess.run(["sfdisk", "-q", str(self.backing)], check=True,
                           input="label: dos\nstart=2048, type=c\n",
                           text=True, timeout=30)
        args = ["losetup", "-f", "--show"] + (["-P"] if partitioned else [])
        r = subprocess.run(args + [str(self.backing)], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise OSError(r.stderr.strip())
        self.dev = r.stdout.strip()

    def mount(self):
        subprocess.run(["mkfs.ext4", "-q", "-F", self.dev], check=True,
                       timeout=60, capture_output=True)
        self.mnt = self.dir / "mnt"
        self.mnt.mkdir()
        r = subprocess.run(["mount", self.dev, str(self.mnt)],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            self.mnt = None
            raise OSError(r.stderr.strip())

    def close(self):
        if self.mnt is not None:
            subprocess.run(["umount", str(self.mnt)], timeout=30)
        subprocess.run(["losetup", "-d", self.dev], timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def loop():
    if os.geteuid() != 0:
        pytest.skip("loop devices need root")
    if shutil.which("losetup") is None:
        pytest.skip("no losetup")
    made = []

    def make(size=8 << 20, partitioned=False):
        try:
            lp = Loop(size, partitioned)
        except OSError as e:
            pytest.skip("no loop device: %s" % e)
        made.append(lp)
        return lp
    yield make
    for lp in made:
        lp.close()


def test_loop_needs_force(image, loop, dd_trap):
    trap, marker = dd_trap
    lp = loop()
    r = run(["--dry-run", "--yes", lp.dev, image], path_prefix=trap)
    assert r.returncode == 1
    assert "not a removable disk" in r.stderr and "--force" in r.stderr
    r = run(["--dry-run", "--yes", "--force", lp.dev, image],
            path_prefix=trap)
    assert r.returncode == 0, r.stderr
    # It shows what it would write over: the size and the model.
    assert "%d bytes" % (8 << 20) in r.stdout
    assert "model unknown" in r.stdout
    assert not marker.exists()


def test_loop_write(image, loop):
    lp = loop()
    r = run(["--yes", "--force", lp.dev, image])
    assert r.returncode == 0, r.stderr
    data = lp.backing.read_bytes()
    assert data[:len(image.read_bytes())] == image.read_bytes()


def test_loop_asks(image, loop):
    lp = loop()
    r = run(["--force", lp.dev, image], stdin="n\n")
    assert r.returncode == 1
    assert "[y/N]" in r.stderr and "not written" in r.stderr
    assert lp.backing.read_bytes() == bytes(8 << 20)


def test_refuses_mounted(image, loop, dd_trap):
    trap, marker = dd_trap
    lp = loop()
    try:
        lp.mount()
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip("cannot mount a loop device here: %s" % e)
    r = run(["--dry-run", "--yes", "--force", lp.dev, image],
            path_prefix=trap)
    assert r.returncode == 1, r.stdout
    assert "in use" in r.stderr and str(lp.mnt) in r.stderr
    assert not marker.exists()


def test_refuses_too_small(loop, tmp_path, dd_trap):
    trap, marker = dd_trap
    lp = loop(1 << 20)
    big = tmp_path / "big.img"
    big.write_bytes(bytes((1 << 20) + 512))
    r = run(["--dry-run", "--yes", "--force", lp.dev, big], path_prefix=trap)
    assert r.returncode == 1
    assert "holds %d bytes" % (1 << 20) in r.stderr
    assert not marker.exists()


def test_refuses_partition(image, loop, tmp_path, dd_trap):
    trap, marker = dd_trap
    lp = loop(partitioned=True)
    name = os.path.basename(lp.dev)
    sysdev = Path("/sys/block/%s/%sp1/dev" % (name, name))
    for _ in range(20):     # the kernel scans the table asynchronously
        if sysdev.exists():
            break
        subprocess.run(["partx", "-a", lp.dev], capture_output=True,
                       timeout=10)
        time.sleep(0.1)
    if not sysdev.exists():
        pytest.skip("the loop device's partition did not appear")
    node = Path(lp.dev + "p1")
    if not node.exists():       # no udev here: make the node ourselves
        major, minor = map(int, sysdev.read_text().split(":"))
        node = tmp_path / (name + "p1")
        os.mknod(node, 0o600 | 0o060000, os.makedev(major, minor))
    r = run(["--dry-run", "--yes", "--force", node, image], path_prefix=trap)
    assert r.returncode == 1, r.stdout
    assert "it is a partition" in r.stderr and lp.dev in r.stderr
    assert not marker.exists()
