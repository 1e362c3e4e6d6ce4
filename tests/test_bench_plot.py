"""Host-side tests of the benchmark scripts: scripts/bench_plot.py (as
`bench_plot`), its command line scripts/bench-plot, and scripts/bench's
option checking. A small hand-made results.csv stands in for a sweep, so
no build or QEMU is needed. (tests/system/test_bench.py runs the driver
for real.)"""

import csv
import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import pytest

import bench_plot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
PY = sys.executable


def run_row(workload, harts, ptlock, repeat, per_s, contended, status="ok",
            mib=8):
    """One results.csv row; lock counts made up but consistent."""
    row = dict.fromkeys(bench_plot.RUN_COLUMNS, "")
    row.update(workload=workload, harts=harts, ptlock=ptlock, repeat=repeat,
               seq=repeat, threads=harts, seconds=1, mib=mib,
               host_cores=2, oversubscribed="yes" if harts > 2 else "no",
               host_load="1.00", wall_s="1.5", status=status)
    if status == "ok":
        row.update(faults=per_s, per_s=per_s,
                   ns_per_op=10 ** 9 * harts // per_s,
                   contended_pct="%.2f" % contended,
                   pt_acquired=2 * per_s if ptlock == "split" else 0,
                   as_acquired=per_s if ptlock == "single" else 10)
    return row


# pf-anon on 1, 2 and 4 harts (4 over-subscribed on the 2 "host cores"),
# three repeats; one single-mode run at 4 harts timed out. pf-samept only
# at 1 hart, to check that cells are kept apart per workload.
ROWS = (
    [run_row("pf-anon", 1, m, r, v, 0.0)
     for m, vals in (("split", (100, 120, 110)), ("single", (90, 95, 130)))
     for r, v in enumerate(vals, 1)] +
    [run_row("pf-anon", 2, m, r, v, c)
     for m, vals in (("split", ((200, 0.0), (180, 0.01), (190, 0.02))),
                     ("single", ((150, 5.0), (100, 8.5), (170, 2.25))))
     for r, (v, c) in enumerate(vals, 1)] +
    [run_row("pf-anon", 4, "split", r, v, 0.0)
     for r, v in enumerate((300, 250, 400), 1)] +
    [run_row("pf-anon", 4, "single", 1, 30, 20.0),
     run_row("pf-anon", 4, "single", 2, 10, 40.0),
     run_row("pf-anon", 4, "single", 3, 0, 0, status="timeout")] +
    [run_row("pf-samept", 1, m, 1, 50, 0.0) for m in ("single", "split")]
)


@pytest.fixture
def results_csv(tmp_path):
    path = tmp_path / "results.csv"
    bench_plot.write_runs(str(path), ROWS)
    return path


def cell(cells, workload, harts, ptlock):
    found = [c for c in cells if (c.workload, c.harts, c.ptlock) ==
             (workload, harts, ptlock)]
    assert len(found) == 1
    return found[0]


def test_summary_statistics(results_csv):
    cells = bench_plot.summarise(bench_plot.read_runs(str(results_csv)))
    assert [(c.workload, c.harts, c.ptlock) for c in cells] == [
        ("pf-anon", 1, "split"), ("pf-anon", 1, "single"),
        ("pf-anon", 2, "split"), ("pf-anon", 2, "single"),
        ("pf-anon", 4, "split"), ("pf-anon", 4, "single"),
        ("pf-samept", 1, "split"), ("pf-samept", 1, "single")]
    c = cell(cells, "pf-anon", 1, "single")
    assert c.per_s == (95, 90, 130) and c.runs == 3 and c.failed == 0
    c = cell(cells, "pf-anon", 2, "single")
    assert c.contended_pct == (5.0, 2.25, 8.5)
    # The timed-out run counts as failed and stays out of the statistics.
    c = cell(cells, "pf-anon", 4, "single")
    assert (c.runs, c.failed) == (2, 1)
    assert c.per_s == (20, 10, 30)


def test_summary_files(results_csv, tmp_path):
    cells = bench_plot.summarise(bench_plot.read_runs(str(results_csv)))
    path = tmp_path / "summary.csv"
    bench_plot.write_summary(cells, str(path))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == bench_plot.SUMMARY_COLUMNS
    assert len(rows) == 8
    r = [r for r in rows if (r["workload"], r["harts"], r["ptlock"]) ==
         ("pf-anon", "4", "single")][0]
    assert (r["runs"], r["failed"], r["per_s_median"], r["per_s_min"],
            r["per_s_max"], r["contended_pct_median"],
            r["oversubscribed"]) == ("2", "1", "20", "10", "30", "30.00",
                                     "yes")

    md = bench_plot.summary_markdown(cells)
    assert "pf-anon, mib=8" in md and "pf-samept, mib=8" in md
    line = [x for x in md.splitlines() if x.startswith("| 4 ")][0]
    assert "over-subscribed" in line
    assert "| 300 (250–400) | 20 (10–30) | 15.00 |" in line


def test_read_rejects_foreign_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(bench_plot.CsvError, match="missing column"):
        bench_plot.read_runs(str(path))


def test_icount_identical():
    a = dict(faults="10", per_s="300000", insns_per_fault="3000",
             pt_acquired="20", pt_contended="0", as_acquired="2",
             as_contended="0", status="ok", workload="pf-anon", mib="8",
             ptlock="split")
    assert bench_plot.icount_identical([a, dict(a)])
    b = dict(a, insns_per_fault="3001")
    assert not bench_plot.icount_identical([a, b])
    md = bench_plot.icount_markdown([a, dict(a, insns_per_fault="3001")])
    assert "| pf-anon | 8 | split | 10 faults | 3000, 3001 | 20 | NO |" in md


def test_icount_ipc():
    """ipc-pingpong's -icount rows: round trips, instructions per round
    trip in insns_per_op (insns_per_fault stays empty), no mib."""
    a = dict(dict.fromkeys(bench_plot.ICOUNT_COLUMNS, ""),
             workload="ipc-pingpong", variant="same", mib="0",
             ptlock="split", status="ok", ops="229696", per_s="227421",
             ns_per_op="4393", insns_per_op="4393", pt_acquired="0",
             as_acquired="3")
    assert bench_plot.icount_identical([a, dict(a)])
    assert not bench_plot.icount_identical([a, dict(a, ops="229697")])
    assert not bench_plot.icount_identical([a, dict(a, insns_per_op="1")])
    md = bench_plot.icount_markdown([a, dict(a, ptlock="single"), dict(a)])
    assert ("| ipc-pingpong same | – | split | 229696 round trips "
            "| 4393, 4393 | 0 | yes |") in md
    assert "| ipc-pingpong same | – | single | 229696 round trips " \
        "| 4393 | 0 | yes |" in md


def test_plots(results_csv, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    cells = bench_plot.summarise(bench_plot.read_runs(str(results_csv)))
    paths = bench_plot.plot_sweep(cells, str(out))
    names = sorted(os.path.basename(p) for p in paths)
    assert names == sorted("%s-%s.%s" % (kind, wl, ext)
                           for kind in ("throughput", "contended")
                           for wl in ("pf-anon", "pf-samept")
                           for ext in ("png", "svg"))
    for p in paths:
        assert os.path.getsize(p) > 1000, p
    with open(out / "throughput-pf-anon.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "contended-pf-anon.svg").read_text()


def test_plots_without_matplotlib(results_csv, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    cells = bench_plot.summarise(bench_plot.read_runs(str(results_csv)))
    with pytest.raises(ImportError):
        bench_plot.plot_sweep(cells, "unused")


def hide_matplotlib(tmp_path):
    """An environment in which `import matplotlib` fails, as on a machine
    without python3-matplotlib."""
    d = tmp_path / "no-matplotlib" / "matplotlib"
    d.mkdir(parents=True)
    (d / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    return dict(os.environ, PYTHONPATH=str(d.parent))


@pytest.mark.parametrize("matplotlib", ["present", "hidden"])
def test_bench_plot_command(results_csv, tmp_path, matplotlib):
    if matplotlib == "present":
        pytest.importorskip("matplotlib")
        env = None
    else:
        env = hide_matplotlib(tmp_path)
    out = tmp_path / "out"
    p = subprocess.run([PY, os.path.join(SCRIPTS, "bench-plot"), "-o",
                        str(out), str(results_csv)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (out / "summary.csv").stat().st_size > 0
    assert (out / "summary.md").stat().st_size > 0
    pngs = sorted(x.name for x in out.glob("*.png"))
    if matplotlib == "present":
        assert pngs == ["contended-pf-anon.png", "contended-pf-samept.png",
                        "throughput-pf-anon.png", "throughput-pf-samept.png"]
    else:
        assert pngs == []
        assert "plots skipped" in p.stdout


def test_bench_plot_command_bad_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("nothing,useful\n")
    p = subprocess.run([PY, os.path.join(SCRIPTS, "bench-plot"), str(path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "missing column" in p.stderr


@pytest.mark.parametrize("args", [
    ["--harts", "3x"], ["--harts", "0,2"], ["--harts", ""],
    ["--modes", "both"], ["--workloads", "pf-nope"], ["--repeats", "0"],
    ["--seconds", "0"], ["--mib", "4096"], ["--icount", "--harts", "2"],
    ["--icount", "--repeats", "1"], ["--mem", "lots"], ["--frobnicate"],
])
def test_bench_bad_options(args, tmp_path):
    """Bad values get a usage message and status 2, before any QEMU run."""
    p = subprocess.run([PY, os.path.join(SCRIPTS, "bench")] + args +
                       ["--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.startswith("usage: bench")
    assert not (tmp_path / "out").exists()


def test_bench_documents_its_columns():
    """Every CSV column is explained in scripts/bench's header comment."""
    with open(os.path.join(SCRIPTS, "bench")) as f:
        text = f.read()
    header = text.split('"""')[1]
    for col in bench_plot.ICOUNT_COLUMNS + bench_plot.SUMMARY_COLUMNS:
        if col.endswith(("_median", "_min", "_max")):
            col = col.rsplit("_", 1)[0]
        assert col in header, col


# ------------------------------------------------------------------------
# Workloads beyond pf-anon: pf-reclaim's two phases per run, map-churn's
# churner ops, spawn-storm's spawns (no region size), and CSV files written
# before those columns existed.

def phase_rows():
    """pf-reclaim on 1 and 2 harts, both modes, two repeats: each run a
    phase=base and a phase=reclaim row, the reclaim one with its ratio."""
    rows, seq = [], 0
    for harts in (1, 2):
        for mode in ("split", "single"):
            for rep, (base, recl) in enumerate(((100, 95), (200, 160)), 1):
                seq += 1
                for phase, v in (("base", base), ("reclaim", recl)):
                    r = run_row("pf-reclaim", harts, mode, rep, v * harts,
                                0.5 if phase == "reclaim" else 0.0)
                    r.update(phase=phase, seq=seq, kfaults=v * harts,
                             vs_base_pct="%.2f" % (100.0 * recl / base)
                             if phase == "reclaim" else "")
                    rows.append(r)
    return rows


def test_phases_summary(tmp_path):
    path = tmp_path / "results.csv"
    bench_plot.write_runs(str(path), phase_rows())
    cells = bench_plot.summarise(bench_plot.read_runs(str(path)))
    assert [(c.harts, c.phase, c.ptlock) for c in cells] == [
        (h, p, m) for h in (1, 2) for p in ("base", "reclaim")
        for m in ("split", "single")]
    c = [c for c in cells if (c.harts, c.phase, c.ptlock) ==
         (2, "reclaim", "split")][0]
    assert c.per_s == (255, 190, 320)
    assert c.vs_base_pct == (87.5, 80.0, 95.0)
    assert [c for c in cells if c.phase == "base"][0].vs_base_pct is None

    bench_plot.write_summary(cells, str(tmp_path / "summary.csv"))
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    r = [r for r in rows if (r["harts"], r["phase"], r["ptlock"]) ==
         ("1", "reclaim", "single")][0]
    assert (r["vs_base_pct_median"], r["vs_base_pct_min"],
            r["vs_base_pct_max"]) == ("87.50", "80.00", "95.00")

    md = bench_plot.summary_markdown(cells)
    assert md.startswith("pf-reclaim, mib=8: faulting threads' faults/s "
                         "without the reclaimer")
    line = [x for x in md.splitlines() if x.startswith("| 2 ")][0]
    assert line == ("| 2 | 2/2 | 300 (200–400) | 255 (190–320) "
                    "| 87.50 (80.00–95.00) | 300 (200–400) | 255 (190–320) "
                    "| 87.50 (80.00–95.00) | 0.50 | 0.50 |")


def test_other_units(tmp_path):
    rows = [run_row("spawn-storm", 2, m, 1, 400, 0.0, mib=0)
            for m in ("split", "single")]
    rows += [dict(run_row("map-churn", 2, m, 1, 1000, 0.0), ops=300,
                  ops_per_s=v) for m, v in (("split", 300), ("single", 100))]
    cells = bench_plot.summarise(rows)
    md = bench_plot.summary_markdown(cells)
    assert "spawn-storm\n\n| harts | runs | split spawns/s median" in md
    assert "map-churn, mib=8\n" in md
    assert "| split churn ops/s | single churn ops/s |" in md
    assert [x for x in md.splitlines() if x.startswith("| 2 ")][0]\
        .endswith("| 300 | 100 |")


def test_reads_csv_without_the_new_columns(tmp_path):
    """A results.csv from before phase, kfaults, ops, ops_per_s and
    vs_base_pct (docs/perf/quick-results.csv is one) still reads."""
    old = [c for c in bench_plot.RUN_COLUMNS
           if c not in bench_plot.OPTIONAL_COLUMNS]
    path = tmp_path / "old.csv"
    bench_plot.write_runs(str(path), ROWS, columns=old)
    runs = bench_plot.read_runs(str(path))
    assert all(r["phase"] == "" and r["ops"] == "" for r in runs)
    assert len(bench_plot.summarise(runs)) == 8


def test_reclaim_plot(tmp_path):
    pytest.importorskip("matplotlib")
    cells = bench_plot.summarise(phase_rows())
    paths = bench_plot.plot_sweep(cells, str(tmp_path))
    assert sorted(os.path.basename(p) for p in paths) == [
        "reclaim-pf-reclaim.png", "reclaim-pf-reclaim.svg"]
    for p in paths:
        assert os.path.getsize(p) > 1000, p


# ------------------------------------------------------------------------
# ipc-pingpong's variants (same and cross hart, one run each), the
# pager-reclaim workload, and the driver's helpers for them.

def ipc_rows():
    """ipc-pingpong at 1, 2 and 4 harts, both modes, two repeats: same
    at every hart count, cross from 2 harts."""
    rows = []
    for harts in (1, 2, 4):
        for var in ("same", "cross") if harts > 1 else ("same",):
            for mode in ("split", "single"):
                for rep, rate in enumerate((200000, 100000), 1):
                    if var == "cross":
                        rate //= 100
                    pairs = harts if var == "same" else harts // 2
                    r = run_row("ipc-pingpong", harts, mode, rep, rate, 0.0,
                                mib=0)
                    r.update(variant=var, threads=2 * pairs, faults="",
                             ops=rate, ns_per_op=10 ** 9 * pairs // rate,
                             pt_acquired=0, as_acquired=2)
                    rows.append(r)
    return rows


def test_variants_summary(tmp_path):
    path = tmp_path / "results.csv"
    bench_plot.write_runs(str(path), ipc_rows())
    cells = bench_plot.summarise(bench_plot.read_runs(str(path)))
    assert [(c.harts, c.variant, c.ptlock) for c in cells] == [
        (1, "same", "split"), (1, "same", "single"),
        (2, "same", "split"), (2, "same", "single"),
        (2, "cross", "split"), (2, "cross", "single"),
        (4, "same", "split"), (4, "same", "single"),
        (4, "cross", "split"), (4, "cross", "single")]
    c = cells[4]
    assert c.per_s == (1500, 1000, 2000) and c.phase == ""
    assert c.ns_per_op == (750000, 500000, 1000000)

    bench_plot.write_summary(cells, str(tmp_path / "summary.csv"))
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["variant"] for r in rows[:6]] == [
        "same", "same", "same", "same", "cross", "cross"]

    md = bench_plot.summary_markdown(cells)
    assert md.startswith("ipc-pingpong: round trips/s of all pairs")
    assert "| harts | variant | runs | split round trips/s " in md
    lines = md.splitlines()
    assert "| 2 | cross | 2/2 | 1 500 (1 000–2 000) | 1 500 (1 000–2 000) " \
        "| 1.00 | 750 | 750 |" in lines
    assert "| 1 | same | 2/2 | 150 000 (100 000–200 000) " \
        "| 150 000 (100 000–200 000) | 1.00 | 7.5 | 7.5 |" in lines
    assert [x.split(" | ")[0] for x in lines if x.startswith("| 4")] == \
        ["| 4 (over-subscribed)"] * 2
    # No fault table for them.
    assert "faults/s" not in md


def test_variants_plot(tmp_path):
    pytest.importorskip("matplotlib")
    cells = bench_plot.summarise(ipc_rows())
    paths = bench_plot.plot_sweep(cells, str(tmp_path))
    assert sorted(os.path.basename(p) for p in paths) == [
        "throughput-ipc-pingpong.png", "throughput-ipc-pingpong.svg"]
    for p in paths:
        assert os.path.getsize(p) > 1000, p


def test_reclaim_pager_is_its_own_workload(tmp_path):
    """pf-reclaim-pager's rows (phases, no variant) get their own table
    and plot beside pf-reclaim's."""
    rows = phase_rows()
    rows += [dict(r, workload="pf-reclaim-pager") for r in phase_rows()]
    cells = bench_plot.summarise(rows)
    md = bench_plot.summary_markdown(cells)
    assert "pf-reclaim, mib=8: faulting threads'" in md
    assert "pf-reclaim-pager, mib=8: faulting threads'" in md
    if importlib.util.find_spec("matplotlib"):
        paths = bench_plot.plot_sweep(cells, str(tmp_path))
        assert sorted(os.path.basename(p) for p in paths) == sorted(
            "reclaim-%s.%s" % (w, e) for w in ("pf-reclaim",
                                                "pf-reclaim-pager")
            for e in ("png", "svg"))


def load_bench():
    """scripts/bench as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader(
        "bench_driver", os.path.join(SCRIPTS, "bench"))
    spec = importlib.util.spec_from_loader("bench_driver", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_driver_variants():
    bench = load_bench()
    assert bench.variants("ipc-pingpong", 1) == ["same"]
    assert bench.variants("ipc-pingpong", 4) == ["same", "cross"]
    assert bench.variants("pf-anon", 4) == [""]
    assert bench.variant_args("ipc-pingpong", "same", 4) == \
        "mode=same pairs=4"
    assert bench.variant_args("ipc-pingpong", "cross", 4) == \
        "mode=cross pairs=2"
    assert bench.variant_args("pf-anon", "", 4) == ""
    assert bench.PROGRAM["pf-reclaim-pager"][:2] == ("pf-reclaim",
                                                     "reclaim=pager")
    found = bench.parse_console(
        "bench ipc-pingpong harts=2 pairs=1 mode=cross seconds=1 "
        "round_trips=10 per_s=10 ns_per_op=100000000 ptlock=split "
        "contended_pct=0.00 kfaults=0\r\n"
        "bench ipc-pingpong-locks kind=pt acquired=0 contended=0 "
        "wait_ns=0\n")
    assert found["ipc-pingpong"]["mode"] == "cross"
    assert found["ipc-pingpong-locks-pt"]["acquired"] == "0"


def test_driver_runs_again_when_a_hart_did_not_come_up(capsys):
    """A run in which the kernel could not start every hart (status
    mismatch, `smp: hart N failed to start`) is run again, at most
    MAX_TRIES runs in all; other failures are not."""
    bench = load_bench()
    calls = []

    def fake(results):
        def run_one(a, *args, **kw):
            status, text = results[len(calls)]
            calls.append(args)
            return [{"status": status}], text
        return run_one
    late = "smp: hart 1 failed to start (no answer in 1 s)\n"
    bench.run_one = fake([("mismatch", late), ("ok", "")])
    rows, _, dropped = bench.run_tries(None, "pf-anon", 8, 2, "split")
    assert (rows[0]["status"], dropped, len(calls)) == ("ok", 1, 2)
    assert "a hart did not come up" in capsys.readouterr().out
    del calls[:]
    bench.run_one = fake([("mismatch", late)] * bench.MAX_TRIES)
    rows, _, dropped = bench.run_tries(None, "pf-anon", 8, 2, "split")
    assert rows[0]["status"] == "mismatch"
    assert len(calls) == bench.MAX_TRIES and dropped == bench.MAX_TRIES - 1
    del calls[:]
    bench.run_one = fake([("mismatch", "bench pf-anon harts=3\n"),
                          ("ok", "")])
    rows, _, dropped = bench.run_tries(None, "pf-anon", 8, 2, "split")
    assert (rows[0]["status"], dropped, len(calls)) == ("mismatch", 0, 1)
