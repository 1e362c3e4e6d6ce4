"""QEMU boots of the in-kernel memory-system suite (ktest=mm).

Each boot runs only the "mm" suite (kernel/test/kt_mm.c) under one
configuration of the memory system:

    ptlock=split    every address space's default is split page-table locks
    ptlock=single   ... is one lock per address space
    noasid          no ASIDs: every switch and every shootdown flushes all
    asidbits=2      three usable ASIDs: with 2 harts, switching forces
                    generation roll-overs; with 8 harts the kernel gives
                    ASIDs up (too few) and says so

(the suite itself creates one split and one single address space in every
boot, so both modes race in each), on 8 harts with 512 MiB, plus one boot
on 4 harts with 64 MiB, where running the allocator dry is quick.

Every boot must pass check_boot (banner, one smp line, no panic, clean
power-off) and check_ktap (a complete KTAP document, every case ok; skips
are listed in the "rivet notes" section), and print

    mm: frame record 32 bytes, ptlock=<mode>

with the mode the option asked for (the boot log says it, and so does the
suite's first case, as a diagnostic). The suite's "mm" subtest must be
there with all its cases: a boot that ran no mm case passes nothing.

On any failure the console log goes to <build>/test-logs/<test>.log.
"""

import re

import pytest

from test_boot import check_boot, check_ktap, verdict

pytestmark = pytest.mark.qemu

FRAME_RE = re.compile(r"mm: frame record (\d+) bytes, ptlock=(\w+)")
# The suite's own cases (kernel/test/kt_mm.c); a missing one means the
# suite list and this file disagree, or the kernel stopped early.
MM_CASES = [
    "frame_record_size",
    "concurrent_map_unmap_protect_fault",
    "racing_faults_same_pages",
    "stale_tlb_after_unmap_and_protect",
    "out_of_memory",
    "frame_caches_run_dry",
    "ad_fault_synthetic",
    "bad_arguments",
    "asid_switching",
    "asid_rollover_stale_tlb",
    "asid_more_harts_than_asids",
    "map_frame_shared",
    "level1_tables_freed",
    "level1_tables_freed_while_faulting",
]
SUITE_CASE_RE = re.compile(r"^\s+(?:not )?ok \d+ (\w+)")
ASID_BITS_RE = re.compile(r"mm: satp\.ASID has (\d+) bits(.*)")

# (harts, memory, command line, ptlock mode the boot must report)
MM_CONFIGS = [
    pytest.param(8, "512M", "ktest=mm ptlock=split", "split",
                 id="smp8-split"),
    pytest.param(8, "512M", "ktest=mm ptlock=single", "single",
                 id="smp8-single"),
    pytest.param(8, "512M", "ktest=mm noasid", None, id="smp8-noasid"),
    # 3 usable ASIDs for 2 harts: switching 6 address spaces rolls over.
    pytest.param(2, "512M", "ktest=mm asidbits=2", None,
                 id="smp2-asidbits2"),
    # 3 usable ASIDs for 8 harts are too few: the kernel must say so and
    # run without ASIDs.
    pytest.param(8, "512M", "ktest=mm asidbits=2", None,
                 id="smp8-asidbits2-too-few"),
    pytest.param(4, "64M", "ktest=mm", None, id="smp4-64M"),
]


def check_mm(b, mode):
    """Problems specific to the mm suite, as a list of strings."""
    problems = []
    lines = b.lines
    frames = [(m.group(1), m.group(2), line.strip())
              for line in lines for m in [FRAME_RE.search(line)] if m]
    if not frames:
        problems.append("no 'mm: frame record N bytes, ptlock=MODE' line")
    for size, got, line in frames:
        if size != "32":
            problems.append("frame record is %s bytes, not 32: %r"
                            % (size, line))
        if mode is not None and got != mode:
            problems.append("ptlock=%s asked for, the kernel says %r"
                            % (mode, line))
    # Boot log and the suite's diagnostic must agree with each other.
    modes = {got for _, got, _ in frames}
    if len(modes) > 1:
        problems.append("ptlock modes disagree: %s"
                        % ", ".join(line for _, _, line in frames))
    if len(frames) < 2:
        problems.append("expected the frame-record line twice (boot log "
                        "and frame_record_size), found %d" % len(frames))
    seen = [m.group(1) for line in lines
            for m in [SUITE_CASE_RE.match(line)] if m]
    missing = [c for c in MM_CASES if c not in seen]
    if missing:
        problems.append("mm cases without a result: %s" % ", ".join(missing))
    return problems


def check_asid_option(b, append):
    """The ASID options must show in the boot log."""
    problems = []
    m = None
    for line in b.lines:
        m = ASID_BITS_RE.search(line) or m
    if m is None:
        problems.append("no 'mm: satp.ASID has N bits' line")
    elif "noasid" in append.split() and "noasid" not in m.group(2):
        problems.append("noasid given, boot log says %r" % m.group(0))
    too_few = any("ASIDs are too few for" in line and "not using ASIDs"
                  in line for line in b.lines)
    return problems, too_few


@pytest.mark.parametrize("harts,mem,append,mode", MM_CONFIGS)
def test_mm(boot, harts, mem, append, mode, log_path, notes):
    """ktest=mm under one memory-system configuration: all ok."""
    b = boot(harts, mem, append=append)
    problems = check_boot(b, harts)
    kp, res = check_ktap(b, notes)
    problems += kp
    problems += check_mm(b, mode)
    asid_problems, too_few = check_asid_option(b, append)
    problems += asid_problems
    if "asidbits=2" in append.split() and too_few != (harts >= 3):
        problems.append("asidbits=2 with %d harts: expected %s 'ASIDs are "
                        "too few ... not using ASIDs' line"
                        % (harts, "a" if harts >= 3 else "no"))
    verdict(b, problems, log_path, "%d harts, %s, %r (%s)"
            % (harts, mem, append, res.summary()))
    notes("%s in %.1f s" % (res.summary(), b.seconds))
