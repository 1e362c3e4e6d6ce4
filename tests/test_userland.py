"""Host-side checks of the user programs and the boot archive `make` builds.

userland/build.mk links userland/{apps,stress,servers}/<name>.c into
<build>/userland/<name>.elf
and packs them, with etc/manifest, into <build>/initrd.cpio (newc), which
kernel/arch/riscv/initrd.S includes in the kernel image. These tests read
what the build left behind (run `make` first; `make test` does):

  * the archive exists, is newc ("070701"), and `cpio -it` lists exactly
    bin/<program> for every program userland/build.mk names (USER_APPS,
    USER_STRESS and USER_SERVERS) and etc/manifest (with their directories), all without
    a leading "./";
  * etc/manifest names programs that are in bin/, init first (the kernel
    starts it; init starts the rest, docs/servers.md), each a word of
    init's list: NAME, wait=NAME or test=NAME;
  * every program, as stored in the archive, is a static RISC-V ELF64
    executable (`readelf -hlW`): ET_EXEC, no PT_INTERP or PT_DYNAMIC, every
    PT_LOAD readable, none both writable and executable, p_vaddr congruent
    to p_offset modulo 4096, nothing below USER_BASE, the entry point inside
    the executable segment; the text comes first, at USER_BASE;
  * the kernel image carries this very archive between initrd_start and
    initrd_end.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# As in conftest.py (conftest modules are not meant to be imported).
ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("O") or "build")
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD

ARCHIVE = BUILD / "initrd.cpio"


def build_mk_list(var):
    """The words of a `VAR := ...` list in userland/build.mk (with its
    backslash continuations)."""
    text = (ROOT / "userland" / "build.mk").read_text().replace("\\\n", " ")
    m = re.search(r"^%s\s*:=(.*)$" % var, text, re.M)
    assert m, "no %s in userland/build.mk" % var
    return tuple(m.group(1).split())


PROGRAMS = (build_mk_list("USER_APPS") + build_mk_list("USER_STRESS") +
            build_mk_list("USER_SERVERS"))
MANIFEST = "etc/manifest"
USER_BASE = 0x10000  # kernel/include/abi/syscall.h
PAGE = 4096
READELF = ("riscv64-unknown-elf-readelf", "riscv64-linux-gnu-readelf")
NM = ("riscv64-unknown-elf-nm", "riscv64-linux-gnu-nm")
KERNEL_VBASE = 0xffffffff80000000  # kernel/arch/riscv/kernel.ld

LOAD_RE = re.compile(
    r"^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+"
    r"0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+([RWE ]+?)\s+0x([0-9a-f]+)\s*$", re.M)


def tool(names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("none of %s found: run scripts/deps.sh" % ", ".join(names),
                pytrace=False)


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, check=False, **kw)
    if res.returncode:
        pytest.fail("%s failed (%d): %s" % (" ".join(map(str, cmd)),
                                             res.returncode,
                                             res.stderr.decode(errors="replace")),
                    pytrace=False)
    return res.stdout


@pytest.fixture(scope="module")
def archive():
    if not ARCHIVE.is_file():
        pytest.fail("%s is missing: run `make` first" % ARCHIVE, pytrace=False)
    return ARCHIVE


def member(archive, name):
    """The bytes of archive member @name (GNU cpio, extracted to stdout)."""
    with open(archive, "rb") as f:
        return run(["cpio", "-i", "--quiet", "--to-stdout", name], stdin=f)


def test_archive_is_newc(archive):
    assert archive.read_bytes()[:6] == b"070701", "not a newc (070701) archive"


def test_archive_lists_programs_and_manifest(archive):
    with open(archive, "rb") as f:
        names = run(["cpio", "-it", "--quiet"], stdin=f).decode().split()
    assert not [n for n in names if n.startswith(("./", "/"))], names
    want = {"bin", "etc", MANIFEST} | {"bin/" + p for p in PROGRAMS}
    assert set(names) == want
    assert len(names) == len(set(names)), "duplicate names: %s" % names


def test_manifest_names_programs(archive):
    text = member(archive, MANIFEST).decode()
    names = text.split()
    assert text.endswith("\n")
    assert names[:1] == ["init"], "the manifest starts %r" % names[:1]
    assert text == "".join(n + "\n" for n in names), "one name a line"
    for word in names:
        name = re.sub(r"^(wait|test)=", "", word)
        assert name in PROGRAMS, "manifest names %r, not in bin/" % word


def readelf(path):
    return run([tool(READELF), "-hlW", str(path)]).decode()


def loads(text):
    """[(offset, vaddr, filesz, memsz, flags)] of the PT_LOAD headers."""
    segs = []
    for m in LOAD_RE.finditer(text):
        off, vaddr, _paddr, filesz, memsz = (int(m.group(i), 16)
                                             for i in range(1, 6))
        segs.append((off, vaddr, filesz, memsz, m.group(6).replace(" ", "")))
    return segs


@pytest.mark.parametrize("prog", PROGRAMS)
def test_program_is_static_riscv_elf(archive, prog, tmp_path):
    data = member(archive, "bin/" + prog)
    assert data[:4] == b"\x7fELF", "bin/%s is not an ELF file" % prog
    path = tmp_path / prog
    path.write_bytes(data)
    text = readelf(path)

    assert re.search(r"^\s*Class:\s+ELF64$", text, re.M), text
    assert re.search(r"^\s*Data:\s+2's complement, little endian$", text,
                     re.M), text
    assert re.search(r"^\s*Machine:\s+RISC-V$", text, re.M), text
    assert re.search(r"^\s*Type:\s+EXEC ", text, re.M), \
        "bin/%s is not ET_EXEC (static, not PIE):\n%s" % (prog, text)
    for kind in ("INTERP", "DYNAMIC"):
        assert not re.search(r"^\s*%s\s" % kind, text, re.M), \
            "bin/%s has a PT_%s header: not static\n%s" % (prog, kind, text)

    segs = loads(text)
    assert segs, "bin/%s has no PT_LOAD header:\n%s" % (prog, text)
    for off, vaddr, filesz, memsz, flags in segs:
        where = "bin/%s segment at %#x (%s)" % (prog, vaddr, flags)
        assert "R" in flags, where + ": not readable"
        assert not ("W" in flags and "E" in flags), where + ": W+X"
        assert memsz > 0, where + ": empty (the loader refuses p_vaddr 0)"
        assert filesz <= memsz, where
        assert vaddr >= USER_BASE, where + ": below USER_BASE"
        assert vaddr % PAGE == off % PAGE, \
            where + ": p_vaddr %#x != p_offset %#x mod 4096" % (vaddr, off)
    # Page spans must not overlap (no page is both text and data).
    spans = sorted((v // PAGE, -(-(v + m) // PAGE)) for _, v, _, m, _ in segs)
    for (_, hi), (lo, _) in zip(spans, spans[1:]):
        assert hi <= lo, "bin/%s: segments share a page: %s" % (prog, spans)

    text_segs = [s for s in segs if "E" in s[4]]
    assert len(text_segs) == 1, "bin/%s: %d executable segments" % (
        prog, len(text_segs))
    _, tvaddr, _, tmemsz, _ = text_segs[0]
    assert tvaddr == USER_BASE, "text is linked at %#x, not USER_BASE" % tvaddr
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)",
                          text).group(1), 16)
    assert tvaddr <= entry < tvaddr + tmemsz, \
        "bin/%s: entry %#x outside the text segment %#x+%#x" % (
            prog, entry, tvaddr, tmemsz)
    assert entry % 2 == 0


def test_kernel_carries_the_archive(archive):
    elf = BUILD / "rivet.elf"
    image = BUILD / "rivet.bin"
    if not elf.is_file() or not image.is_file():
        pytest.fail("%s or %s is missing: run `make` first" % (elf, image),
                    pytrace=False)
    syms = {}
    for line in run([tool(NM), str(elf)]).decode().splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    assert "initrd_start" in syms and "initrd_end" in syms, \
        "rivet.elf has no initrd_start/initrd_end"
    start, end = syms["initrd_start"], syms["initrd_end"]
    assert start % 8 == 0
    blob = archive.read_bytes()
    assert end - start == len(blob), \
        "the kernel's archive is %d bytes, %s is %d" % (end - start, archive,
                                                       len(blob))
    with open(image, "rb") as f:
        f.seek(start - KERNEL_VBASE)
        assert f.read(len(blob)) == blob, \
            "rivet.bin holds another archive than %s: rebuild" % archive
