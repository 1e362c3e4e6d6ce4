"""The stress servers pf-anon, pf-samept, pf-reclaim (unmapping, and
reclaim=pager: through its pager), map-churn, spawn-storm and
ipc-pingpong, as the benchmark runs them: one `bench` line with every key
(two for pf-reclaim, one per phase), lock statistics, counts that agree
with the kernel's (SYS_STATS page faults >= pages the program touched,
and for pf-anon, pf-samept and map-churn at most a few more: the
threads' stacks; round trips, rate and time per round trip that agree
with each other), and a usage message for bad arguments; every workload
runs on 4 harts (pf-anon and pf-samept on 2 as well); and the benchmark
driver scripts/bench on tiny sweeps and in its -icount mode. (Timings
are not checked here: benchmarks are for `make bench`.)"""
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


def extra_faults_allowed(threads):
    """Faults the kernel may count beyond the pages a fault workload's
    threads touched: the first touch of each thread's stack (seen: one
    each) and of the main thread's, with room to spare. A fault counted
    twice, or a page faulted twice, exceeds it at once."""
    return 16 * threads + 16


@pytest.mark.parametrize("harts", [2, 4])
@pytest.mark.parametrize("prog", ["pf-anon", "pf-samept"])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_pf_anon(boot, prog, mode, harts, log_path):
    b = boot(harts, "256M", append="init=%s ptlock=%s -- seconds=1 mib=4"
             % (prog, mode))
    problems = check_boot(b, harts)
    lines = [l.strip() for l in b.lines]
    m = [BENCH_RE.match(l) for l in lines]
    m = [x for x in m if x]
    if len(m) != 1:
        problems.append("expected one 'bench %s ...' line, got %d"
                        % (prog, len(m)))
    else:
        g = m[0].groups()
        if g[2] != mode or int(g[0]) != harts or int(g[1]) != harts:
            problems.append("bench line says %r" % m[0].group(0))
        faults, kfaults = int(g[5]), int(g[9])
        # Whole rounds of the 4 MiB region (1024 pages), at least one.
        if faults < 1024 or faults % 1024:
            problems.append("faults=%d: not whole rounds of 1024 pages"
                            % faults)
        if kfaults < faults:
            problems.append("the kernel counted %d faults, fewer than the "
                            "%d pages touched" % (kfaults, faults))
        elif kfaults > faults + extra_faults_allowed(harts):
            problems.append("the kernel counted %d faults for %d pages "
                            "touched: more than %d extra"
                            % (kfaults, faults, extra_faults_allowed(harts)))
    kinds = [l for l in lines
             if l.startswith("bench %s-locks kind=" % prog)]
    if len(kinds) != 2:
        problems.append("expected the pt and as lock lines")
    if not any(l == "init: exited with status 0" for l in lines):
        problems.append("%s did not exit with status 0" % prog)
    verdict(b, problems, log_path, "%s ptlock=%s on %d harts"
            % (prog, mode, harts))


# ---------------------------------------------------------------------------
# pf-reclaim, map-churn and spawn-storm: a short run of each on 4 harts (over-
# subscribed on a 2-core host, which only makes the run slower). The lines
# are parsed as key=value words; the keys each must carry are listed here.

COMMON_KEYS = ("harts", "threads", "ptlock", "seconds", "per_s", "ns_per_op",
               "contended_pct", "kfaults")
FAULT_KEYS = COMMON_KEYS + ("mib", "faults")
KEYS = {
    "pf-reclaim": FAULT_KEYS + ("phase", "faulters", "slices", "reclaimed",
                                "refaults", "reclaim"),
    "map-churn": FAULT_KEYS + ("faulters", "churners", "ops", "ops_per_s",
                               "churn_faults", "nomem"),
    "spawn-storm": COMMON_KEYS + ("burst", "spawns", "bursts", "again",
                                  "spawn_us", "wait_us", "free_before",
                                  "free_after"),
}
NUM_RE = re.compile(r"^\d+(\.\d\d)?$")


def bench_lines(lines, prog):
    """[(name, {key: value})] of the `bench PROG...` lines, in order."""
    out = []
    for line in lines:
        words = line.split()
        if len(words) < 2 or words[0] != "bench" or \
                not words[1].startswith(prog):
            continue
        kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        if len(kv) != len(words) - 2:
            kv["?"] = line      # a word that is not key=value
        out.append((words[1], kv))
    return out


def check_line(prog, kv, harts, mode):
    """Problems with one result line of @prog."""
    problems = []
    if "?" in kv:
        problems.append("not all key=value: %r" % kv["?"])
    missing = [k for k in KEYS[prog] if k not in kv]
    if missing:
        return problems + ["%s line lacks %s" % (prog, ", ".join(missing))]
    for k, v in kv.items():
        if k not in ("ptlock", "phase", "reclaim", "mode", "?") and \
                not NUM_RE.match(v):
            problems.append("%s=%r is not a number" % (k, v))
    if problems:
        return problems
    if (kv["harts"], kv["ptlock"]) != (str(harts), mode):
        problems.append("line says harts=%s ptlock=%s"
                        % (kv["harts"], kv["ptlock"]))
    if int(kv["per_s"]) <= 0:
        problems.append("per_s=%s" % kv["per_s"])
    return problems


def check_lock_lines(named, prog, phases):
    want = sorted((p, k) for p in phases for k in ("pt", "as"))
    got = sorted((kv.get("phase"), kv.get("kind")) for name, kv in named
                 if name == prog + "-locks")
    if got != want:
        return ["lock lines %r, expected %r" % (got, want)]
    return []


def check_pf_reclaim(named, harts, mode, how="unmap"):
    """@how: the reclaim= the run was given (unmap or pager)."""
    problems = []
    res = {kv.get("phase"): kv for name, kv in named if name == "pf-reclaim"}
    if sorted(res) != ["base", "reclaim"]:
        return ["expected a phase=base and a phase=reclaim line, got %r"
                % sorted(res)]
    for kv in res.values():
        problems += check_line("pf-reclaim", kv, harts, mode)
        if kv.get("reclaim") != how:
            problems.append("phase=%s: reclaim=%s, expected %s"
                            % (kv.get("phase"), kv.get("reclaim"), how))
        # With the pager the contents survive eviction: every page holds
        # what the toucher wrote last (the program counts those that do
        # not, and prints lost= only in this mode).
        if (how == "pager") != ("lost" in kv):
            problems.append("lost=%s with reclaim=%s" % (kv.get("lost"),
                                                          how))
        elif how == "pager" and kv["lost"] != "0":
            problems.append("phase=%s: lost=%s pages" % (kv["phase"],
                                                         kv["lost"]))
    if problems:
        return problems
    b, r = res["base"], res["reclaim"]
    n = lambda kv, k: int(kv[k])     # noqa: E731
    if n(b, "threads") != harts or n(b, "faulters") != harts - 1:
        problems.append("threads=%s faulters=%s on %d harts"
                        % (b["threads"], b["faulters"], harts))
    for kv in (b, r):
        if n(kv, "faults") <= 0:
            problems.append("phase=%s: no faults" % kv["phase"])
    # The kernel counts every fault of the run, each phase's touches among
    # them (its slices' counts are summed per phase; a stretch crossing
    # into the other phase is split by time, so compare the sums). A
    # faulting thread credits its pages every CHECK_PAGES (32) pages, in
    # proportion to time: the stretches across the first slice's start
    # and the last one's end may credit up to 32 pages each that the
    # kernel counted before or after the measured window (seen: 100
    # touched, 90 counted, in a run of 1-2 faults per 10 ms). The
    # refaults are not added: the toucher may still be in a pass it
    # credited after main's last SYS_STATS.
    kf = n(b, "kfaults") + n(r, "kfaults")
    touched = n(b, "faults") + n(r, "faults")
    if kf + 2 * 32 * n(b, "faulters") < touched:
        problems.append("the kernel counted %d faults, fewer than the %d "
                        "pages the faulting threads touched" % (kf, touched))
    if n(b, "reclaimed") != 0:
        problems.append("the reclaimer worked in phase=base")
    # What was reclaimed was faulted back in. Not necessarily within the
    # reclaim phase: the toucher shares its hart with the reclaimer (and
    # the pager), and on a loaded host it may run a pass only in the
    # next base slice (seen, both ways: refaults=0 in the reclaim phase).
    if n(r, "reclaimed") <= 0 or n(b, "refaults") + n(r, "refaults") <= 0:
        problems.append("reclaimed=%s, refaults=%s and %s"
                        % (r["reclaimed"], b["refaults"], r["refaults"]))
    pct = n(r, "per_s") * 100.0 / n(b, "per_s")
    if abs(float(r.get("vs_base_pct", "-1")) - pct) > 0.1:
        problems.append("vs_base_pct=%s but per_s %s/%s"
                        % (r.get("vs_base_pct"), r["per_s"], b["per_s"]))
    return problems + check_lock_lines(named, "pf-reclaim",
                                       ["base", "reclaim"])


def check_map_churn(named, harts, mode, mib):
    res = [kv for name, kv in named if name == "map-churn"]
    if len(res) != 1:
        return ["expected one 'bench map-churn' line, got %d" % len(res)]
    kv = res[0]
    problems = check_line("map-churn", kv, harts, mode)
    if problems:
        return problems
    n = lambda k: int(kv[k])     # noqa: E731
    if (n("faulters"), n("churners")) != (harts - harts // 2, harts // 2):
        problems.append("faulters=%s churners=%s" % (kv["faulters"],
                                                     kv["churners"]))
    if n("faults") <= 0 or n("faults") % (mib * 256):
        problems.append("faults=%s: not whole rounds of %d MiB"
                        % (kv["faults"], mib))
    # Each completed cycle: map, protect, unmap, and 4 pages written.
    if n("ops") <= 0 or n("ops") % 3 or n("churn_faults") != n("ops") // 3 * 4:
        problems.append("ops=%s churn_faults=%s" % (kv["ops"],
                                                    kv["churn_faults"]))
    touched = n("faults") + n("churn_faults")
    if n("kfaults") < touched:
        problems.append("the kernel counted %s faults, fewer than the %d "
                        "pages touched" % (kv["kfaults"], touched))
    elif n("kfaults") > touched + extra_faults_allowed(harts):
        problems.append("the kernel counted %s faults for %d pages "
                        "touched: more than %d extra"
                        % (kv["kfaults"], touched,
                           extra_faults_allowed(harts)))
    return problems + check_lock_lines(named, "map-churn", [None])


def check_spawn_storm(named, harts, mode, burst):
    res = [kv for name, kv in named if name == "spawn-storm"]
    if len(res) != 1:
        return ["expected one 'bench spawn-storm' line, got %d" % len(res)]
    kv = res[0]
    problems = check_line("spawn-storm", kv, harts, mode)
    if problems:
        return problems
    n = lambda k: int(kv[k])     # noqa: E731
    if n("spawns") <= 0 or n("bursts") <= 0:
        problems.append("spawns=%s bursts=%s" % (kv["spawns"], kv["bursts"]))
    if n("spawns") > n("bursts") * burst or \
            (n("again") == 0 and n("spawns") != n("bursts") * burst):
        problems.append("spawns=%s in %s bursts of %d (again=%s)"
                        % (kv["spawns"], kv["bursts"], burst, kv["again"]))
    if n("free_before") != n("free_after") or n("free_before") <= 0:
        problems.append("free frames %s before, %s after the storm"
                        % (kv["free_before"], kv["free_after"]))
    return problems + check_lock_lines(named, "spawn-storm", [None])


@pytest.mark.parametrize("prog", ["pf-reclaim", "pf-reclaim-pager",
                                  "map-churn", "spawn-storm"])
@pytest.mark.parametrize("mode", ["split", "single"])
def test_stress(boot, prog, mode, log_path):
    """pf-reclaim-pager is pf-reclaim reclaim=pager, as scripts/bench runs
    it."""
    harts, mib, burst = 4, 4, 4
    args = "seconds=1" + ("" if prog == "spawn-storm" else " mib=%d" % mib)
    if prog == "pf-reclaim-pager":
        prog, args = "pf-reclaim", args + " reclaim=pager"
    b = boot(harts, "256M", append="init=%s ptlock=%s -- %s"
             % (prog, mode, args), timeout=120)
    problems = check_boot(b, harts)
    lines = [l.strip() for l in b.lines]
    named = bench_lines(lines, prog)
    if prog == "pf-reclaim":
        problems += check_pf_reclaim(named, harts, mode,
                                     "pager" if "pager" in args else "unmap")
    elif prog == "map-churn":
        problems += check_map_churn(named, harts, mode, mib)
    else:
        problems += check_spawn_storm(named, harts, mode, burst)
    if not any(l == "init: exited with status 0" for l in lines):
        problems.append("%s did not exit with status 0" % prog)
    verdict(b, problems, log_path, "%s ptlock=%s on %d harts"
            % (prog, mode, harts))


@pytest.mark.parametrize("prog,args", [
    ("pf-reclaim", "threads=1"),         # needs a faulting thread too
    ("pf-reclaim", "phase=base"),
    ("pf-reclaim", "reclaim=swap"),
    ("pf-reclaim", "reclaim=pager threads=17"),
    ("ipc-pingpong", "mode=cross"),      # on 1 hart
    ("ipc-pingpong", "pairs=0"),
    ("ipc-pingpong", "seconds=18446744073709551617"),   # wraps to 1
    ("ipc-pingpong", "mib=8"),
    ("map-churn", "threads=4 churners=4"),
    ("map-churn", "churners=0"),
    ("map-churn", "seconds=5x"),
    ("spawn-storm", "mib=4"),            # takes no region size
    ("spawn-storm", "threads=13 burst=4"),   # 52 children > 48
])
def test_stress_bad_arguments(boot, prog, args, log_path):
    b = boot(1, "128M", append="init=%s -- %s" % (prog, args))
    problems = check_boot(b, 1)
    lines = [l.strip() for l in b.lines]
    if not any(l.startswith("usage: %s " % prog) for l in lines):
        problems.append("no usage message")
    if not any(l == "init: exited with status 2" for l in lines):
        problems.append("exit status is not 2")
    if any(l.startswith("bench ") for l in lines):
        problems.append("a bench line despite the bad argument")
    verdict(b, problems, log_path, "%s %s" % (prog, args))


IPC_KEYS = ("harts", "pairs", "mode", "seconds", "round_trips", "per_s",
            "ns_per_op", "ptlock", "contended_pct", "kfaults")


def check_ipc_pingpong(named, harts, variant, pairs, mode, seconds):
    res = [kv for name, kv in named if name == "ipc-pingpong"]
    if len(res) != 1:
        return ["expected one 'bench ipc-pingpong' line, got %d" % len(res)]
    kv = res[0]
    problems = []
    if "?" in kv:
        problems.append("not all key=value: %r" % kv["?"])
    missing = [k for k in IPC_KEYS if k not in kv]
    if missing:
        return problems + ["ipc-pingpong line lacks %s" % ", ".join(missing)]
    for k, v in kv.items():
        if k not in ("ptlock", "mode", "?") and not NUM_RE.match(v):
            problems.append("%s=%r is not a number" % (k, v))
    if problems:
        return problems
    if (kv["harts"], kv["pairs"], kv["mode"], kv["ptlock"]) != \
            (str(harts), str(pairs), variant, mode):
        problems.append("line says harts=%s pairs=%s mode=%s ptlock=%s"
                        % (kv["harts"], kv["pairs"], kv["mode"],
                           kv["ptlock"]))
    n = lambda k: int(kv[k])     # noqa: E731
    trips, per_s, ns = n("round_trips"), n("per_s"), n("ns_per_op")
    if trips <= 0 or per_s <= 0 or ns <= 0:
        return problems + ["round_trips=%d per_s=%d ns_per_op=%d"
                           % (trips, per_s, ns)]
    # The run lasted at least seconds=: per_s is at most the round trips
    # per requested second, and round trips x time per round trip of a
    # pair / pairs (= the run's length) is at least that long.
    if per_s > trips // seconds:
        problems.append("per_s=%d but %d round trips in %d s"
                        % (per_s, trips, seconds))
    if trips * ns // pairs < seconds * 10 ** 9 * 0.99:
        problems.append("%d round trips of %d ns by %d pairs: shorter "
                        "than %d s" % (trips, ns, pairs, seconds))
    # per_s and ns_per_op come from the same elapsed time (per_s rounds
    # it to whole milliseconds, plus one, and is a whole number).
    if abs(per_s * ns / pairs / 1e9 - 1.0) > 0.01 + 1.0 / per_s:
        problems.append("per_s=%d and ns_per_op=%d disagree for %d pairs"
                        % (per_s, ns, pairs))
    # IPC faults no page: the kernel saw only the threads' stacks.
    if n("kfaults") > 8 * pairs:
        problems.append("kfaults=%s for %d pairs" % (kv["kfaults"], pairs))
    return problems + check_lock_lines(named, "ipc-pingpong", [None])


@pytest.mark.parametrize("variant,mode", [("same", "split"),
                                          ("cross", "single")])
def test_ipc_pingpong(boot, variant, mode, log_path):
    """The driver's shape of run on 4 harts: a pair per hart (same), or a
    pair per two harts (cross)."""
    harts, seconds = 4, 1
    pairs = harts if variant == "same" else harts // 2
    b = boot(harts, "256M", append="init=ipc-pingpong ptlock=%s -- "
             "seconds=%d mode=%s pairs=%d" % (mode, seconds, variant, pairs),
             timeout=120)
    problems = check_boot(b, harts)
    lines = [l.strip() for l in b.lines]
    problems += check_ipc_pingpong(bench_lines(lines, "ipc-pingpong"),
                                   harts, variant, pairs, mode, seconds)
    if not any(l == "init: exited with status 0" for l in lines):
        problems.append("ipc-pingpong did not exit with status 0")
    verdict(b, problems, log_path, "ipc-pingpong mode=%s ptlock=%s on %d "
            "harts" % (variant, mode, harts))


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
def test_bench_driver_new_workloads(kernel, tmp_path, log_path):
    """pf-reclaim gives a row per phase, map-churn its churners' ops, and
    spawn-storm (no region size: mib 0) spawns/s; the summary has the
    reclaim table and the reclaim plot is drawn."""
    out = tmp_path / "bench"
    run_bench(kernel, out, ["--quick", "--harts", "2", "--repeats", "1",
                            "--modes", "split", "--workloads",
                            "pf-reclaim,map-churn,spawn-storm"], log_path)
    header, rows = read_csv(out / "results.csv")
    assert header == bench_plot.RUN_COLUMNS
    rows.sort(key=lambda r: (r["workload"], r["phase"]))
    assert [(r["workload"], r["phase"]) for r in rows] == [
        ("map-churn", ""), ("pf-reclaim", "base"), ("pf-reclaim", "reclaim"),
        ("spawn-storm", "")]
    for r in rows:
        assert r["status"] == "ok", r
        assert int(r["per_s"]) > 0 and int(r["kfaults"]) >= 0, r
    churn, base, recl, storm = rows
    assert int(churn["ops"]) > 0 and int(churn["ops_per_s"]) > 0, churn
    assert int(churn["kfaults"]) >= int(churn["faults"]) > 0, churn
    assert base["seq"] == recl["seq"] and base["vs_base_pct"] == ""
    assert abs(float(recl["vs_base_pct"]) -
               100.0 * int(recl["per_s"]) / int(base["per_s"])) <= 0.1, recl
    assert int(base["kfaults"]) + int(recl["kfaults"]) >= \
        int(base["faults"]) + int(recl["faults"])
    assert storm["mib"] == "0" and storm["faults"] == "", storm
    assert int(storm["ops"]) > 0, storm

    _, cells = read_csv(out / "summary.csv")
    assert [(c["workload"], c["phase"]) for c in cells] == [
        (r["workload"], r["phase"]) for r in rows]
    assert cells[2]["vs_base_pct_median"] == "%.2f" % float(
        recl["vs_base_pct"])
    md = (out / "summary.md").read_text()
    assert "spawn-storm\n" in md and "split spawns/s" in md
    assert "split churn ops/s" in md
    assert "pf-reclaim, mib=8: faulting threads' faults/s without" in md
    if have_matplotlib():
        for name in ("reclaim-pf-reclaim.png", "throughput-map-churn.png",
                     "throughput-spawn-storm.svg"):
            assert (out / name).stat().st_size > 1000, name
        assert not (out / "throughput-pf-reclaim.png").exists()


@pytest.mark.qemu
def test_bench_driver_ipc_and_pager(kernel, tmp_path, log_path):
    """ipc-pingpong gives a row per variant (same at 1 hart; same and
    cross at 2), pf-reclaim-pager a row per phase, both in the summary
    and the plots."""
    out = tmp_path / "bench"
    run_bench(kernel, out, ["--quick", "--harts", "1,2", "--repeats", "1",
                            "--modes", "split", "--workloads",
                            "ipc-pingpong,pf-reclaim-pager"], log_path)
    header, rows = read_csv(out / "results.csv")
    assert header == bench_plot.RUN_COLUMNS
    got = sorted((r["workload"], r["harts"], r["variant"], r["phase"])
                 for r in rows)
    assert got == [("ipc-pingpong", "1", "same", ""),
                   ("ipc-pingpong", "2", "cross", ""),
                   ("ipc-pingpong", "2", "same", ""),
                   ("pf-reclaim-pager", "1", "", "base"),
                   ("pf-reclaim-pager", "1", "", "reclaim"),
                   ("pf-reclaim-pager", "2", "", "base"),
                   ("pf-reclaim-pager", "2", "", "reclaim")], got
    for r in rows:
        assert r["status"] == "ok", r
        assert int(r["per_s"]) > 0 and int(r["ns_per_op"]) > 0, r
        if r["workload"] == "ipc-pingpong":
            pairs = int(r["harts"]) // (2 if r["variant"] == "cross" else 1)
            assert r["threads"] == str(2 * pairs), r
            assert r["mib"] == "0" and r["faults"] == "", r
            assert int(r["ops"]) >= int(r["per_s"]), r    # 1 s or more
        else:
            assert int(r["faults"]) > 0, r
    _, cells = read_csv(out / "summary.csv")
    assert ("ipc-pingpong", "cross", "2") in [
        (c["workload"], c["variant"], c["harts"]) for c in cells]
    md = (out / "summary.md").read_text()
    assert "| harts | variant | runs | split round trips/s" in md
    assert "pf-reclaim-pager, mib=8: faulting threads' faults/s" in md
    if have_matplotlib():
        for name in ("throughput-ipc-pingpong.png",
                     "reclaim-pf-reclaim-pager.svg"):
            assert (out / name).stat().st_size > 1000, name
        assert not (out / "contended-ipc-pingpong.png").exists()


@pytest.mark.qemu
def test_bench_driver_icount(kernel, tmp_path, log_path, notes):
    out = tmp_path / "bench"
    run_bench(kernel, out, ["--icount", "--workloads",
                            "pf-anon,ipc-pingpong", "--mib", "4", "--modes",
                            "split"], log_path)
    header, rows = read_csv(out / "icount.csv")
    assert header == bench_plot.ICOUNT_COLUMNS
    assert [(r["workload"], r["variant"]) for r in rows] == [
        ("pf-anon", "")] * 2 + [("ipc-pingpong", "same")] * 2
    assert all(r["status"] == "ok" and r["harts"] == "1" for r in rows)
    # Deterministic: both runs of each executed exactly the same.
    anon, ipc = rows[:2], rows[2:]
    assert bench_plot.icount_identical(anon), anon
    assert bench_plot.icount_identical(ipc), ipc
    ipf = int(anon[0]["insns_per_fault"])
    assert ipf == int(anon[0]["ns_per_op"]) == int(anon[0]["insns_per_op"])
    assert 100 < ipf < 100000
    ipr = int(ipc[0]["insns_per_op"])
    assert ipc[0]["insns_per_fault"] == "" and ipc[0]["mib"] == "0"
    assert ipr == int(ipc[0]["ns_per_op"]) and 50 < ipr < 100000
    assert int(ipc[0]["ops"]) > 0 and ipc[0]["threads"] == "2"
    notes("pf-anon mib=4 split: %d instructions per fault; ipc-pingpong "
          "same hart: %d instructions per round trip (-icount "
          "shift=0,sleep=off)" % (ipf, ipr))
