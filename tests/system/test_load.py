"""QEMU boot scenarios about what the firmware hands the kernel: where the
image was loaded, and the device tree.

Runs wherever it is loaded: build/rivet.bin is wrapped into an ELF whose
one LOAD segment starts at another physical address (`ld -N -b binary
--section-start=.data=ADDR`); QEMU's -kernel loads it there and passes
ADDR to OpenSBI as the next stage's address. The kernel must report
"mem: kernel ADDR-..." and pass `ktest`, at a 2 MiB aligned address and at
one that is only 4 KiB aligned.

A device tree the kernel cannot use gives a clear message, not a crash: the
FDT QEMU generates (dumpdtb, same -smp and -m) is decompiled with dtc, one
thing is changed in the source text, and the result is booted with -dtb.
OpenSBI reads the same tree, so only what it ignores is broken:

    memory-reg-3-cells    /memory's reg is 3 cells, not (2 + 2) * n
    memory-no-reg         /memory has no reg
        -> one "panic:" line naming /memory (and reg), no trap register
           dump, then power-off
    stdout-path-nowhere   /chosen/stdout-path names a node that is not there
        -> the kernel falls back to another console and passes ktest
    bootargs-garbage      /chosen/bootargs = "ktest bogus=1" (no -append,
                          which QEMU would write over bootargs)
        -> a "cmdline:" complaint about bogus, and ktest passes

On any failure the console log goes to <build>/test-logs/<test>.log; for a
device-tree case the edited DTS is appended to it.
"""

import re
import shutil
import subprocess

import pytest

import qemu
# The checks every clean boot must pass, as test_boot.py defines them.
from test_boot import check_boot, check_ktap, verdict

pytestmark = pytest.mark.qemu

HARTS = 2
MEM = "128M"
LD = ("riscv64-unknown-elf-ld", "riscv64-linux-gnu-ld")
DTC = "dtc"
POWEROFF = "rivet: powering off"


def need_tool(names):
    """Path of the first of @names on $PATH; fail the test if none is."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("none of %s found: run scripts/deps.sh" % ", ".join(names),
                pytrace=False)


def run_tool(cmd, what):
    """Run @cmd; fail the test with its output if it fails."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=60)
    if p.returncode != 0:
        pytest.fail("%s failed (exit %d): %s\n%s" % (
            what, p.returncode, " ".join(str(c) for c in cmd),
            (p.stdout + p.stderr).strip()), pytrace=False)
    return p


# -- runs wherever it is loaded ---------------------------------------------

def wrap_at(ld, image, address, out):
    """An ELF at @out whose single LOAD segment holds @image at physical
    (and virtual) @address, with entry point @address. -N makes the segment
    start at the section itself, not at a page-aligned file offset before
    it, so the image's first byte is what lands at @address."""
    run_tool([ld, "-m", "elf64lriscv", "-N", "-b", "binary", "-o", out,
              "--section-start=.data=%#x" % address, "-e", "%#x" % address,
              image], "wrapping %s" % image.name)


LOAD_ADDRESSES = [
    pytest.param(0x80400000, id="2M-aligned-0x80400000"),
    pytest.param(0x80a01000, id="4K-aligned-0x80a01000"),
]


@pytest.mark.parametrize("address", LOAD_ADDRESSES)
def test_load_address(boot, kernel, tmp_path, address, log_path, notes):
    """Loaded at @address: reports it, passes ktest, powers off."""
    elf = tmp_path / ("rivet-%x.elf" % address)
    wrap_at(need_tool(LD), kernel, address, elf)
    b = boot(HARTS, MEM, append="ktest", image=elf)
    problems = check_boot(b, HARTS)
    mem = b.grep(r"^mem: kernel ")
    want = "mem: kernel %#x-" % address
    if not mem or not mem[0].startswith(want):
        problems.append("expected a line starting %r, got %r"
                        % (want, mem[0].strip() if mem else "(none)"))
        nxt = b.grep(r"Next Address\s*:")
        if nxt and int(nxt[0].split(":")[1], 16) != address:
            problems.append("(OpenSBI's next address is %s: the ELF "
                            "wrapper did not move the image)"
                            % nxt[0].split(":")[1].strip())
    kp, res = check_ktap(b, notes)
    problems += kp
    verdict(b, problems, log_path, "kernel loaded at %#x, ktest (%s)"
            % (address, res.summary()))
    notes("loaded at %#x: %s in %.1f s" % (address, res.summary(),
                                           b.seconds))


# -- device trees the kernel cannot use ---------------------------------------

@pytest.fixture(scope="module")
def virt_dts(tmp_path_factory, kernel):
    """QEMU's own device tree for HARTS and MEM, as DTS text."""
    dtc = need_tool([DTC])
    d = tmp_path_factory.mktemp("dt")
    dtb = d / "virt.dtb"
    try:
        qemu.dump_dtb(dtb, HARTS, MEM)
    except subprocess.CalledProcessError as e:
        pytest.fail("%s dumpdtb failed: %s" % (qemu.QEMU, e.stderr.strip()),
                    pytrace=False)
    return run_tool([dtc, "-q", "-I", "dtb", "-O", "dts", dtb],
                    "decompiling QEMU's device tree").stdout


def edit(dts, pattern, repl, what):
    """@dts with the one match of @pattern (re.M) replaced by @repl."""
    out, n = re.subn(pattern, repl, dts, flags=re.M)
    if n != 1:
        pytest.fail("QEMU's device tree changed: %d matches for %s (%r)"
                    % (n, what, pattern), pytrace=False)
    return out


# The /memory node of qemu virt, #address-cells = #size-cells = 2.
MEM_REG = (r"(memory@[0-9a-f]+ \{[^}]*?\breg = )"
           r"<(0x\w+) (0x\w+) (0x\w+) (0x\w+)>;")
MEM_NO_REG = r"(memory@[0-9a-f]+ \{[^}]*?)\n\s*reg = <[^>]*>;"
STDOUT_PATH = r'^(\s*)stdout-path = "[^"]*";'
# The kernel's console after a stdout-path that leads nowhere: the first
# supported UART, or the SBI console.
CONSOLE_FALLBACK = r"^console: (/soc/serial@|.*SBI console)"


class DtCase:
    """One device-tree edit and what the kernel must make of it.

    edit:        function (DTS text) -> edited DTS text
    panic_words: words the first "panic:" line must contain; None: no
                 panic, the boot must pass ktest
    append:      the -append option; None: none, so that the kernel takes
                 its command line from /chosen/bootargs
    expect:      regexes (re.M) that must match some console line
    complaint:   regex that a "cmdline:" complaint must match (the line
                 echoing the command line does not count)
    """

    def __init__(self, name, edit, panic_words=None, append="ktest",
                 expect=(), complaint=None):
        self.name = name
        self.edit = edit
        self.panic_words = panic_words
        self.append = append
        self.expect = expect
        self.complaint = complaint


DT_CASES = [
    DtCase("memory-reg-3-cells",
           lambda s: edit(s, MEM_REG, r"\1<\2 \3 \5>;", "/memory reg"),
           panic_words=("/memory", "reg")),
    DtCase("memory-no-reg",
           lambda s: edit(s, MEM_NO_REG, r"\1", "/memory reg"),
           panic_words=("/memory",)),
    DtCase("stdout-path-nowhere",
           lambda s: edit(s, STDOUT_PATH,
                          r'\1stdout-path = "/soc/nothing@0";',
                          "/chosen stdout-path"),
           expect=[CONSOLE_FALLBACK]),
    DtCase("bootargs-garbage",
           lambda s: edit(s, STDOUT_PATH,
                          r'\g<0>\n\1bootargs = "ktest bogus=1";',
                          "/chosen stdout-path"),
           append=None, expect=[r'^cmdline: "ktest bogus=1"$'],
           complaint=r"\bbogus\b"),
]


def check_dt_panic(b, words):
    """Problems with a boot that must refuse the tree with a message."""
    problems = []
    panics = [line.strip() for line in b.lines
              if line.lstrip().startswith("panic:")]
    if not panics:
        problems.append("no 'panic:' line; the kernel accepted the tree")
    else:
        missing = [w for w in words if w not in panics[0]]
        if missing:
            problems.append("the panic line %r does not name %s"
                            % (panics[0], ", ".join(missing)))
    dump = b.grep(r"^(cause|sepc):")
    if dump:
        problems.append("a trap, not a message: %s" % dump[0].strip())
    if not b.exited:
        problems.append(b.describe())
    elif not b.grep(re.escape(POWEROFF)):
        problems.append("QEMU exited without '%s'" % POWEROFF)
    return problems


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name)
                                  for c in DT_CASES])
def test_bad_device_tree(boot, virt_dts, tmp_path, case, log_path, notes):
    """A broken device tree: a clear panic, or a boot that copes."""
    dts_text = case.edit(virt_dts)
    dts = tmp_path / (case.name + ".dts")
    dtb = tmp_path / (case.name + ".dtb")
    dts.write_text(dts_text)
    run_tool([need_tool([DTC]), "-q", "-I", "dts", "-O", "dtb", "-o", dtb,
              dts], "compiling %s" % dts.name)
    b = boot(HARTS, MEM, append=case.append, extra=["-dtb", str(dtb)])
    if case.panic_words:
        problems = check_dt_panic(b, case.panic_words)
        summary = "refused with a panic"
    else:
        problems = check_boot(b, HARTS)
        problems += ["no console line matching %r" % r
                     for r in case.expect if not b.grep(r)]
        complaints = [line for line in b.grep(r"^cmdline: [^\"]")
                      if re.search(case.complaint or "", line)]
        if case.complaint and not complaints:
            problems.append("no 'cmdline:' complaint matching %r"
                            % case.complaint)
        kp, res = check_ktap(b, notes)
        problems += kp
        summary = res.summary()
    if problems:
        path = log_path("%s\n# %s:\n%s" % (b.transcript(), dts.name,
                                            dts_text))
        pytest.fail("device tree %s, %s:\n  %s\nconsole log: %s" % (
            case.name, b.describe(), "\n  ".join(problems), path),
            pytrace=False)
    notes("%s: %s in %.1f s" % (case.name, summary, b.seconds))
