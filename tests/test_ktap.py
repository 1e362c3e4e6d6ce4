"""Unit tests for scripts/ktap.py, the one KTAP parser (`ktap` on sys.path).

Each test feeds a small inline document, written the way rivet prints it
(see the module docstring of scripts/ktap.py), and checks the parsed tests,
their results and the parser's error messages. Errors are matched on their
stable words ("plan 1..3 but 2 results", "no result line"), not verbatim.
No build or QEMU is needed; these run in well under a second.
"""

import textwrap

import ktap


def doc(text):
    """@text without the indentation of the triple-quoted literal."""
    return textwrap.dedent(text).lstrip("\n")


def results(res):
    """{'suite.case': 'pass'|'fail'|'skip'|'missing'} for every leaf."""
    return {t.path: t.result for t in res.leaves()}


def errors_matching(res, *words):
    """The errors that contain every one of @words."""
    return [e for e in res.errors if all(w in e for w in words)]


# Two suites, all ok: the shape `ktest` prints on a healthy kernel.
PASSING = doc("""
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: boot
        1..2
        ok 1 fdt_harts_match_online_harts
        ok 2 memmap_excludes_reserved
    # boot: pass:2 fail:0 skip:0 total:2
    ok 1 boot
        KTAP version 1
        # Subtest: smp
        1..3
        ok 1 lock_irq_nesting
            # 2 harts, 40000 acquisitions: 35091 contended
        ok 2 lock_torture_all_harts
        ok 3 ipi_round_trip_every_pair
    # smp: pass:3 fail:0 skip:0 total:3
    ok 2 smp
    """)


def test_passing_document():
    res = ktap.parse(PASSING)
    assert res.ok and res.complete
    assert res.errors == []
    assert len(res.documents) == 1
    assert res.plan == 2
    assert [(s.name, s.result) for s in res.suites] == [("boot", "pass"),
                                                        ("smp", "pass")]
    assert [s.plan for s in res.suites] == [2, 3]
    assert results(res) == {
        "boot.fdt_harts_match_online_harts": "pass",
        "boot.memmap_excludes_reserved": "pass",
        "smp.lock_irq_nesting": "pass",
        "smp.lock_torture_all_harts": "pass",
        "smp.ipi_round_trip_every_pair": "pass",
    }
    assert (res.passed, res.failed, res.skipped) == (5, 0, 0)
    assert res.summary() == "ktap: 5 passed, 0 failed, 0 skipped"
    # A diagnostic belongs to the next result line at its own level.
    torture = res.suites[1].cases[1]
    assert torture.number == 2
    assert torture.diagnostics == ["2 harts, 40000 acquisitions: 35091 "
                                   "contended"]
    assert res.report() == []


def test_passing_document_from_bytes_with_crlf():
    """A raw serial capture: bytes, CRLF line ends, colour escapes."""
    raw = PASSING.replace("\n", "\r\n").encode()
    raw = raw.replace(b"ok 2 smp", b"\x1b[32mok 2 smp\x1b[0m")
    res = ktap.parse(raw)
    assert res.ok
    assert res.passed == 5
    assert res.suites[1].name == "smp"


def test_failing_case():
    res = ktap.parse(doc("""
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: libk
            1..3
                # libk.c:12: expected x == y
                # x = 3, y = 4
            not ok 1 printf_matches_libc
            ok 2 strlcpy
            ok 3 strtou64
        # libk: pass:2 fail:1 skip:0 total:3
        not ok 1 libk
        """))
    assert not res.ok
    assert res.complete and res.errors == []   # well formed, just failing
    assert results(res) == {"libk.printf_matches_libc": "fail",
                            "libk.strlcpy": "pass",
                            "libk.strtou64": "pass"}
    assert res.suites[0].result == "fail"
    [bad] = res.failures()
    assert bad.path == "libk.printf_matches_libc"
    assert bad.diagnostics == ["libk.c:12: expected x == y", "x = 3, y = 4"]
    assert res.summary() == "ktap: 2 passed, 1 failed, 0 skipped"
    report = res.report()
    assert report[0] == "FAIL libk.printf_matches_libc"
    assert "    # libk.c:12: expected x == y" in report


def test_suite_ok_despite_failed_case_is_an_error():
    res = ktap.parse(doc("""
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: libk
            1..1
            not ok 1 strlcpy
        ok 1 libk
        """))
    assert not res.ok
    assert errors_matching(res, "'libk' reported ok", "'strlcpy' failed")


def test_skips():
    res = ktap.parse(doc("""
        KTAP version 1
        1..2
            KTAP version 1
            # Subtest: smp
            1..3
            ok 1 ipi_round_trip_every_pair # SKIP needs 2 harts
            ok 2 xcall_mask_subset # skip only one hart online
            ok 3 time_is_monotonic
        ok 1 smp
            KTAP version 1
            # Subtest: plic
            1..0
        ok 2 plic # SKIP no PLIC in the device tree
        """))
    assert res.ok, res.errors         # skips are not failures
    assert results(res) == {"smp.ipi_round_trip_every_pair": "skip",
                            "smp.xcall_mask_subset": "skip",
                            "smp.time_is_monotonic": "pass",
                            "plic": "skip"}
    skips = {t.path: (t.directive, t.reason) for t in res.skips()}
    assert skips == {
        "smp.ipi_round_trip_every_pair": ("SKIP", "needs 2 harts"),
        "smp.xcall_mask_subset": ("SKIP", "only one hart online"),
        "plic": ("SKIP", "no PLIC in the device tree"),
    }
    assert (res.passed, res.failed, res.skipped) == (1, 0, 3)
    # The name stops at the directive's '#'.
    assert res.suites[0].cases[0].name == "ipi_round_trip_every_pair"


def test_plan_mismatch_in_a_suite():
    """Fewer results than the suite's plan: reported even though all ok."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: boot
            1..3
            ok 1 a
            ok 2 b
        ok 1 boot
        """))
    assert not res.ok and not res.complete
    assert res.failed == 0
    assert errors_matching(res, "'boot'", "plan 1..3 but 2 results")


def test_plan_mismatch_extra_result():
    """A result after the top-level plan was met is an error."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..1
        ok 1 a
        ok 2 b
        """))
    assert not res.ok
    assert errors_matching(res, "after the end of the plan", "ok 2 b")
    assert [t.name for t in res.leaves()] == ["a"]


def test_missing_case_number():
    """A case skipped in the numbering: out of order and short of the plan."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: smp
            1..3
            ok 1 ipi
            ok 3 timer
        ok 1 smp
        """))
    assert not res.ok
    assert errors_matching(res, "test number 3 out of order", "expected 2")
    assert errors_matching(res, "'smp'", "plan 1..3 but 2 results")


def test_missing_suite_result():
    """A suite whose own result line never came counts as a failure."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..2
            KTAP version 1
            # Subtest: boot
            1..1
            ok 1 a
            KTAP version 1
            # Subtest: smp
            1..1
            ok 1 ipi
        ok 2 smp
        """))
    assert not res.ok
    assert results(res) == {"boot.a": "pass", "boot": "missing",
                            "smp.ipi": "pass"}
    assert [t.path for t in res.failures()] == ["boot"]
    assert errors_matching(res, "'boot'", "no result line")
    assert "MISSING boot (no result line)" in res.report()


def test_interleaved_console_lines():
    """Boot messages from other harts between KTAP lines are skipped."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..2
            KTAP version 1
            # Subtest: smp
            1..3
        smp: hart 3 online
            ok 1 ipi_round_trip_every_pair
        timer: hart 1 tick 100
          ra: ffffffff8000182a   sp: ffffffff8001ceb0
            ok 2 xcall_reaches_every_hart
        cmdline: unknown option 'bogus' in 'bogus=1' ignored
            ok 3 timer_ticks_on_every_hart
        sbi: hart 2 stopped
        ok 1 smp
        console: /soc/serial@10000000 at 0x10000000
            KTAP version 1
            # Subtest: boot
            1..1
            ok 1 fdt_memory_banks_are_ram
        ok 2 boot
        ktest: all passed
        rivet: powering off
        """))
    assert res.ok, res.errors
    assert res.passed == 4
    assert res.ignored == 8
    assert [c.name for c in res.suites[0].cases] == [
        "ipi_round_trip_every_pair", "xcall_reaches_every_hart",
        "timer_ticks_on_every_hart"]
    assert all(not t.diagnostics for t in res.leaves())


def test_garbage_prefix():
    """An OpenSBI banner before the document, including lines that look
    like KTAP (an indented 'ok 1', a plan), is not part of it."""
    banner = doc(r"""
        OpenSBI v1.1
           ____                    _____ ____ _____
          / __ \                  / ____|  _ \_   _|
         | |  | |_ __   ___ _ __ | (___ | |_) || |
          \____/| .__/ \___|_| |_|_____/|____/_____|
                | |
                |_|

        Platform Name             : riscv-virtio,qemu
        Domain0 Next Address      : 0x0000000080200000
            ok 1 looks_like_a_result
        1..9

        rivet 0.1 (qemu_virt) on riscv-virtio,qemu, boot hart 1
        smp: 2 harts online (boot hart 1)
        """)
    res = ktap.parse("\x00\xff" + banner + PASSING)
    assert res.ok, res.errors
    assert len(res.documents) == 1
    assert res.plan == 2
    assert res.passed == 5
    assert "looks_like_a_result" not in [t.name for t in res.leaves()]
    assert res.documents[0].line == banner.count("\n") + 1


def test_no_document():
    res = ktap.parse("OpenSBI v1.1\nrivet: powering off\n")
    assert not res.ok and not res.complete
    assert res.documents == [] and res.plan is None
    assert "error: no KTAP document found" in res.report()


def test_truncated_document():
    """Output cut off (QEMU killed, a panic) inside the second suite."""
    res = ktap.parse(doc("""
        KTAP version 1
        1..3
            KTAP version 1
            # Subtest: boot
            1..1
            ok 1 a
        ok 1 boot
            KTAP version 1
            # Subtest: smp
            1..3
            ok 1 ipi
        panic: trap: load page fault in kernel
        bt: #0 0xffffffff800018e4
        """))
    assert not res.ok and not res.complete
    assert results(res) == {"boot.a": "pass", "smp.ipi": "pass",
                            "smp": "missing"}
    assert errors_matching(res, "'smp'", "no result line", "input ended")
    assert errors_matching(res, "'smp'", "plan 1..3 but 1 result")
    assert errors_matching(res, "KTAP document incomplete", "input ended",
                           "plan 1..3 but 2 results")


def test_truncated_without_final_line():
    """Every suite complete but the document's plan not met, and the last
    line lacks its newline."""
    text = doc("""
        KTAP version 1
        1..2
            KTAP version 1
            # Subtest: boot
            1..1
            ok 1 a
        ok 1 boot
        """).rstrip("\n")
    res = ktap.parse(text)
    assert not res.ok
    assert res.failed == 0 and res.passed == 1
    assert errors_matching(res, "KTAP document incomplete",
                           "plan 1..2 but 1 result")


def test_bail_out():
    res = ktap.parse(doc("""
        KTAP version 1
        1..2
            KTAP version 1
            # Subtest: smp
            1..2
            ok 1 ipi
        Bail out! out of memory
        """))
    assert not res.ok
    assert errors_matching(res, "bail out", "out of memory")
    assert results(res)["smp"] == "missing"


def test_two_documents():
    """Two boots in one log: both documents are kept, failures from both."""
    res = ktap.parse("KTAP version 1\n1..1\nok 1 a\nrivet: powering off\n"
                     "OpenSBI v1.1\nKTAP version 1\n1..1\nnot ok 1 b\n")
    assert len(res.documents) == 2
    assert res.plans == [1, 1] and res.plan == 2
    assert res.complete and not res.ok
    assert [t.name for t in res.failures()] == ["b"]
