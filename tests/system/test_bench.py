"""The stress servers pf-anon and pf-samept, as the benchmark runs them:
one `bench` line with every key, lock statistics, and a usage message for
bad arguments; and the benchmark driver scripts/bench on a tiny sweep and
in its -icount mode. (Timings are not checked here: benchmarks are for
`make bench`.)"""
import csv
import importlib.util
import os
import re
import subprocess
import sys

import pytest

import bench_plot
from test_boot import check_boot, verdict

BENCH_RE = re.compile(
    r"^bench (?:pf-anon|pf-samept) harts=(\d+) threads=(\d+) ptlock=(split|single) "
    r"seconds=(\d+) mib=(\d+) faults=(\d+) per_s=(\d+) ns_per_op=(\d+) "
    r"contended_pct=(\d+\.\d\d) kfaults=(\d+)$")


@pytest.mark.parametrize("prog", ["pf-anon", "pf-samept"])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_pf_anon(boot, prog, mode, log_path):
    b = boot(2, "256M", append="init=%s ptlock=%s -- seconds=1 mib=4"
             % (prog, mode))
    problems = check_boot(b, 2)
    lines = [l.strip() for l in b.lines]
    m = [BENCH_RE.match(l) for l in lines]
    m = [x for x in m if x]
    if len(m) != 1:
        problems.append("expected one 'bench %s ...' line, got %d"
                        % (prog, len(m)))
    else:
        g = m[0].groups()
        if g[2] != mode or int(g[0]) != 2 or int(g[1]) != 2:
            problems.append("bench line says %r" % m[0].group(0))
        if int(g[5]) < 4 * 256:   # at least one round
            problems.append("only %s faults" % g[5])
        if int(g[9]) < int(g[5]):
            problems.append("the kernel counted %s faults, fewer than the "
                            "%s pages touched" % (g[9], g[5]))
    kinds = [l for l in lines
             if l.startswith("bench %s-locks kind=" % prog)]
    if len(kinds) != 2:
        problems.append("expected the pt and as lock lines")
    if not any(l == "init: exited with status 0" for l in lines):
        problems.append("%s did not exit with status 0" % prog)
    verdict(b, problems, log_path, "%s ptlock=%s" % (prog, mode))


def test_pf_anon_bad_arguments(boot, log_path):
    b = boot(1, "128M", append="init=pf-anon -- threads=lots")
    problems = check_boot(b, 1)
    lines = [l.strip() for l in b.lines]
    if not any(l.startswith("usage: pf-anon") for l in lines):
        problems.append("no usage message")
    if not any(l == "init: exited with status 2" for l in lines):
        problems.append("exit status is not 2")
    verdict(b, problems, log_path, "pf-anon with a bad argument")


# ---------------------------------------------------------------------------
# The benchmark driver, scripts/bench, on the smallest sweep that still has
# both modes and two hart counts (4 QEMU runs of 1 s), and its -icount mode
# (2 runs of one configuration, which must agree exactly). The CSV layout
# is checked against scripts/bench_plot.py; the plotting code on its own is
# tested in tests/test_bench_plot.py.

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts")


def have_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


def run_bench(kernel, out, args, log_path, env=None, timeout=300):
    cmd = [sys.executable, os.path.join(SCRIPTS, "bench"), "--kernel",
           str(kernel), "--out", str(out)] + args
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if p.returncode != 0:
        logs = ""
        for f in sorted((out / "logs").glob("*.log")):
            logs += "\n--- %s\n%s" % (f.name, f.read_text())
        path = log_path("$ %s\n# exit %d\n%s\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr, logs))
        pytest.fail("scripts/bench exited with %d; output in %s"
                    % (p.returncode, path), pytrace=False)
    return p


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, [dict(zip(header, row)) for row in r]


@pytest.mark.qemu
def test_bench_driver_quick(kernel, tmp_path, log_path):
    out = tmp_path / "bench"
    p = run_bench(kernel, out, ["--quick", "--harts", "1,2", "--repeats",
                                "1", "--workloads", "pf-anon"], log_path)
    header, rows = read_csv(out / "results.csv")
    assert header == bench_plot.RUN_COLUMNS
    assert sorted((r["harts"], r["ptlock"]) for r in rows) == [
        ("1", "single"), ("1", "split"), ("2", "single"), ("2", "split")]
    for r in rows:
        assert r["status"] == "ok", r
        assert (r["workload"], r["threads"], r["seconds"], r["mib"]) == \
            ("pf-anon", r["harts"], "1", "8"), r
        # Every round touches all pages of every thread's region.
        assert int(r["faults"]) > 0 and int(r["faults"]) % 2048 == 0, r
        assert int(r["per_s"]) > 0 and int(r["ns_per_op"]) > 0, r
        assert 0.0 <= float(r["contended_pct"]) <= 100.0, r
        # Each mode's faults take its own kind of lock.
        kind = "pt" if r["ptlock"] == "split" else "as"
        assert int(r[kind + "_acquired"]) >= int(r["faults"]), r
        if r["ptlock"] == "single":
            assert r["pt_acquired"] == "0", r
        assert r["host_cores"] == str(os.cpu_count())

    header, cells = read_csv(out / "summary.csv")
    assert header == bench_plot.SUMMARY_COLUMNS
    assert len(cells) == 4
    for c in cells:
        assert (c["runs"], c["failed"]) == ("1", "0")
        assert c["per_s_median"] == c["per_s_min"] == c["per_s_max"]
    assert (out / "summary.md").read_text().startswith("pf-anon, mib=8")

    plots = ["%s-pf-anon.%s" % (k, e) for k in ("throughput", "contended")
             for e in ("png", "svg")]
    if have_matplotlib():
        for name in plots:
            assert (out / name).stat().st_size > 1000, name
    else:
        assert "plots skipped" in p.stdout
        assert not any((out / name).exists() for name in plots)


@pytest.mark.qemu
def test_bench_driver_without_matplotlib(kernel, tmp_path, log_path):
    """The CSV files are written and the plots skipped, with a message."""
    hide = tmp_path / "hide" / "matplotlib"
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError('hidden')\n")
    env = dict(os.environ, PYTHONPATH=str(hide.parent))
    out = tmp_path / "bench"
    p = run_bench(kernel, out, ["--quick", "--harts", "1", "--repeats", "1",
                                "--workloads", "pf-samept", "--modes",
                                "split"], log_path, env=env)
    assert "plots skipped" in p.stdout
    _, rows = read_csv(out / "results.csv")
    assert [(r["workload"], r["status"]) for r in rows] == [
        ("pf-samept", "ok")]
    assert (out / "summary.csv").is_file()
    assert not list(out.glob("*.png")) and not list(out.glob("*.svg"))


@pytest.mark.qemu
def test_bench_driver_icount(kernel, tmp_path, log_path, notes):
    out = tmp_path / "bench"
    run_bench(kernel, out, ["--icount", "--workloads", "pf-anon", "--mib",
                            "4", "--modes", "split"], log_path)
    header, rows = read_csv(out / "icount.csv")
    assert header == bench_plot.ICOUNT_COLUMNS
    assert len(rows) == 2
    assert all(r["status"] == "ok" and r["harts"] == "1" for r in rows)
    # Deterministic: both runs executed exactly the same.
    assert bench_plot.icount_identical(rows), rows
    ipf = int(rows[0]["insns_per_fault"])
    assert ipf == int(rows[0]["ns_per_op"]) and 100 < ipf < 100000
    notes("pf-anon mib=4 split: %d instructions per fault "
          "(-icount shift=0,sleep=off)" % ipf)
