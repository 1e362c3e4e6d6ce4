"""bench_plot - read scripts/bench's CSV files, summarise them, draw the plots.

The module behind `scripts/bench-plot` and the summary step of
`scripts/bench`; tests import it as `bench_plot` (scripts/ is on sys.path).
The column lists below are the one definition of the files' layout; the
meaning of each column is written in scripts/bench's header comment.

    runs = bench_plot.read_runs("build/bench/results.csv")
    cells = bench_plot.summarise(runs)          # one Cell per configuration
    bench_plot.write_summary(cells, "build/bench/summary.csv")
    open("summary.md", "w").write(bench_plot.summary_markdown(cells))
    files = bench_plot.plot_sweep(cells, "build/bench")  # ImportError
                                                # when matplotlib is missing

Workloads with phases (pf-reclaim and pf-reclaim-pager: phase=base
without the reclaimer, phase=reclaim with it, both from one QEMU run)
give two rows per run and two cells per configuration; they get their own
table and plot. Workloads with variants (ipc-pingpong: variant=same or
cross, one QEMU run each) get a cell per variant, a table with a row per
(harts, variant) and one plot with a line per (variant, ptlock).

matplotlib (Debian's python3-matplotlib) is imported only by the plot_*
functions, so everything else works without it.
"""

import csv
import io
import os
import statistics
from collections import namedtuple

# results.csv (one row per QEMU run) and icount.csv (the same, plus
# insns_per_fault). Meanings: scripts/bench, header comment.
RUN_COLUMNS = [
    "workload", "phase", "variant", "harts", "ptlock", "repeat", "seq", "threads",
    "seconds", "mib", "faults", "per_s", "ns_per_op", "contended_pct",
    "kfaults", "ops", "ops_per_s", "vs_base_pct",
    "pt_acquired", "pt_contended", "pt_wait_ns",
    "as_acquired", "as_contended", "as_wait_ns",
    "wall_s", "host_cores", "oversubscribed", "host_load", "status",
]
ICOUNT_COLUMNS = RUN_COLUMNS + ["insns_per_fault", "insns_per_op"]
# Columns added after the first CSV files were written (docs/perf/): a
# file without them reads as if they were empty.
OPTIONAL_COLUMNS = ("phase", "variant", "kfaults", "ops", "ops_per_s",
                    "vs_base_pct", "insns_per_op")

# summary.csv: one row per (workload, phase, variant, mib, harts, ptlock)
# cell.
SUMMARY_COLUMNS = [
    "workload", "phase", "variant", "mib", "harts", "ptlock", "runs", "failed",
    "per_s_median", "per_s_min", "per_s_max",
    "contended_pct_median", "contended_pct_min", "contended_pct_max",
    "ns_per_op_median", "ops_per_s_median",
    "vs_base_pct_median", "vs_base_pct_min", "vs_base_pct_max",
    "host_cores", "oversubscribed",
]

MODES = ("split", "single")
# Phases of a workload measured twice in one run, in report order.
PHASES = ("base", "reclaim")
# Variants of a workload, each its own QEMU run and cell, in report order.
VARIANTS = {"ipc-pingpong": ("same", "cross")}
# What per_s counts, where it is not page faults.
RATE_UNIT = {"spawn-storm": "spawns/s", "ipc-pingpong": "round trips/s"}
# What ops_per_s counts, for the workloads that report it.
OPS_UNIT = {"map-churn": "churn ops/s"}

Stat = namedtuple("Stat", "median min max")
Cell = namedtuple("Cell", "workload mib harts ptlock runs failed per_s "
                  "contended_pct ns_per_op host_cores phase ops_per_s "
                  "vs_base_pct variant")


def rate_unit(workload):
    return RATE_UNIT.get(workload, "faults/s")


def _title(workload, mib):
    return workload if not mib else "%s, mib=%d" % (workload, mib)


class CsvError(ValueError):
    """A CSV file that is not what scripts/bench writes."""


def read_runs(path, columns=RUN_COLUMNS):
    """The rows of @path as dicts of strings. Raises CsvError when a
    column of @columns is missing, OSError when the file cannot be read."""
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        missing = [c for c in columns if c not in (r.fieldnames or []) and
                   c not in OPTIONAL_COLUMNS]
        if missing:
            raise CsvError("%s: missing column(s) %s" % (path,
                                                         ", ".join(missing)))
        rows = list(r)
    for row in rows:
        for c in OPTIONAL_COLUMNS:
            if row.get(c) is None:
                row[c] = ""
    return rows


def write_runs(path, rows, columns=RUN_COLUMNS):
    """Write @rows (dicts) to @path with a header line."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _stat(values):
    return Stat(statistics.median(values), min(values), max(values))


def _opt_stat(rows, col):
    vals = [float(r[col]) for r in rows if r.get(col)]
    return _stat(vals) if vals else None


def _variant_rank(workload, variant):
    order = VARIANTS.get(workload, ())
    return order.index(variant) if variant in order else (
        -1 if not variant else len(order))


def summarise(runs):
    """Cells (sorted by workload, mib, harts, variant, phase, split before
    single) with the median, min and max over the runs whose status is
    "ok"; a cell whose runs all failed has per_s etc. set to None.
    contended_pct, ops_per_s and vs_base_pct are None where the workload
    does not report them."""
    groups = {}
    for r in runs:
        key = (r["workload"], int(r["mib"] or 0), int(r["harts"]),
               r.get("variant") or "", r.get("phase") or "", r["ptlock"])
        groups.setdefault(key, []).append(r)

    def order(k):
        return (k[0], k[1], k[2], _variant_rank(k[0], k[3]), k[3], k[4],
                MODES.index(k[5]) if k[5] in MODES else 9)
    cells = []
    for key in sorted(groups, key=order):
        rs = groups[key]
        ok = [r for r in rs if r["status"] == "ok"]
        cores = max(int(r["host_cores"]) for r in rs)
        if ok:
            per_s = _stat([int(r["per_s"]) for r in ok])
            nspo = _stat([int(r["ns_per_op"]) for r in ok])
        else:
            per_s = nspo = None
        cells.append(Cell(key[0], key[1], key[2], key[5], len(ok),
                          len(rs) - len(ok), per_s,
                          _opt_stat(ok, "contended_pct"), nspo, cores,
                          key[4], _opt_stat(ok, "ops_per_s"),
                          _opt_stat(ok, "vs_base_pct"), key[3]))
    return cells


def _fmt(x):
    if x is None:
        return ""
    if isinstance(x, float) and not x.is_integer():
        return "%.2f" % x
    return str(int(x))


def write_summary(cells, path):
    """Write summary.csv (SUMMARY_COLUMNS) for @cells."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SUMMARY_COLUMNS)
        for c in cells:
            p, k, n = c.per_s, c.contended_pct, c.ns_per_op
            o, v = c.ops_per_s, c.vs_base_pct
            w.writerow([c.workload, c.phase, c.variant, c.mib, c.harts,
                        c.ptlock,
                        c.runs, c.failed,
                        _fmt(p and p.median), _fmt(p and p.min),
                        _fmt(p and p.max),
                        "%.2f" % k.median if k else "",
                        "%.2f" % k.min if k else "",
                        "%.2f" % k.max if k else "",
                        _fmt(n and n.median), _fmt(o and o.median),
                        "%.2f" % v.median if v else "",
                        "%.2f" % v.min if v else "",
                        "%.2f" % v.max if v else "",
                        c.host_cores,
                        "yes" if c.harts > c.host_cores else "no"])


def _groups(cells):
    """{(workload, mib): {(harts, ptlock): cell}} in first-seen order, for
    the cells without a phase or a variant."""
    out = {}
    for c in cells:
        if not c.phase and not c.variant:
            out.setdefault((c.workload, c.mib), {})[(c.harts, c.ptlock)] = c
    return out


def _variant_groups(cells):
    """{(workload, mib): {(harts, variant, ptlock): cell}} in first-seen
    order, for the cells with a variant."""
    out = {}
    for c in cells:
        if c.variant:
            out.setdefault((c.workload, c.mib), {})[
                (c.harts, c.variant, c.ptlock)] = c
    return out


def _phase_groups(cells):
    """{(workload, mib): {(harts, ptlock, phase): cell}} in first-seen
    order, for the cells with a phase."""
    out = {}
    for c in cells:
        if c.phase:
            out.setdefault((c.workload, c.mib), {})[
                (c.harts, c.ptlock, c.phase)] = c
    return out


def _thousands(n):
    return "{:,}".format(int(round(n))).replace(",", " ")


def _rate(c):
    if not c or not c.per_s:
        return "–"
    return "%s (%s–%s)" % (_thousands(c.per_s.median),
                           _thousands(c.per_s.min), _thousands(c.per_s.max))


def _pct(st):
    if not st:
        return "–"
    if st.min == st.max:
        return "%.2f" % st.median
    return "%.2f (%.2f–%.2f)" % (st.median, st.min, st.max)


def _us(c):
    """Median time of one operation of one thread (pair), in µs."""
    if not c or not c.ns_per_op:
        return "–"
    us = c.ns_per_op.median / 1000.0
    return "%.1f" % us if us < 100 else _thousands(us)


def _harts(h, cs):
    over = any(c and c.harts > c.host_cores for c in cs)
    return "%d%s" % (h, " (over-subscribed)" if over else "")


def summary_markdown(cells):
    """Markdown: one table per workload, split and single side by side,
    rates as median (min–max) and the split/single ratio of medians (plus
    the churners' ops/s where reported). A workload with phases gets the
    rate of each phase and the per-run ratio of reclaim to base."""
    out = io.StringIO()
    for (wl, mib), by in _groups(cells).items():
        unit = rate_unit(wl)
        ops = OPS_UNIT.get(wl) if any(c.ops_per_s for c in by.values()) \
            else None
        out.write("%s\n\n" % _title(wl, mib))
        out.write("| harts | runs | split %s median (min–max) "
                  "| single %s median (min–max) | split/single "
                  "| split contended %% | single contended %% |"
                  % (unit, unit))
        out.write(" split %s | single %s |\n" % (ops, ops) if ops else "\n")
        out.write("|---:|---:|---:|---:|---:|---:|---:|%s\n"
                  % ("---:|---:|" if ops else ""))
        for h in sorted({h for h, _ in by}):
            s, g = by.get((h, "split")), by.get((h, "single"))
            ratio = "–"
            if s and g and s.per_s and g.per_s and g.per_s.median:
                ratio = "%.2f" % (s.per_s.median / g.per_s.median)
            runs = "/".join(str(c.runs) for c in (s, g) if c)
            out.write("| %s | %s | %s | %s | %s | %s | %s |"
                      % (_harts(h, (s, g)), runs, _rate(s), _rate(g), ratio,
                         _pct(s and s.contended_pct),
                         _pct(g and g.contended_pct)))
            if ops:
                out.write(" %s | %s |" % tuple(
                    _thousands(c.ops_per_s.median)
                    if c and c.ops_per_s else "–" for c in (s, g)))
            out.write("\n")
        out.write("\n")
    for (wl, mib), by in _phase_groups(cells).items():
        unit = rate_unit(wl)
        out.write("%s: faulting threads' %s without the reclaimer "
                  "(phase=base) and with it (phase=reclaim), one run each; "
                  "with/without: the per-run ratio, median (min–max)\n\n"
                  % (_title(wl, mib), unit))
        out.write("| harts | runs | split without | split with "
                  "| split with/without % | single without | single with "
                  "| single with/without % | split contended % (with) "
                  "| single contended % (with) |\n")
        out.write("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for h in sorted({k[0] for k in by}):
            cs = {(m, p): by.get((h, m, p)) for m in MODES for p in PHASES}
            runs = "/".join(str(c.runs) for (m, p), c in cs.items()
                            if c and p == PHASES[-1])
            row = [_harts(h, cs.values()), runs]
            for m in MODES:
                b, r = cs[(m, PHASES[0])], cs[(m, PHASES[-1])]
                row += [_rate(b), _rate(r), _pct(r and r.vs_base_pct)]
            row += [_pct(cs[(m, PHASES[-1])] and
                         cs[(m, PHASES[-1])].contended_pct) for m in MODES]
            out.write("| %s |\n" % " | ".join(row))
        out.write("\n")
    for (wl, mib), by in _variant_groups(cells).items():
        unit = rate_unit(wl)
        out.write("%s: %s of all pairs together, median (min–max); µs per "
                  "round trip of one pair, median (pairs: harts for same, "
                  "harts/2 for cross)\n\n" % (_title(wl, mib), unit))
        out.write("| harts | variant | runs | split %s | single %s "
                  "| split/single | split µs | single µs |\n"
                  % (unit, unit))
        out.write("|---:|---|---:|---:|---:|---:|---:|---:|\n")
        for h, v in sorted({k[:2] for k in by},
                           key=lambda k: (k[0], _variant_rank(wl, k[1]))):
            s, g = by.get((h, v, "split")), by.get((h, v, "single"))
            ratio = "–"
            if s and g and s.per_s and g.per_s and g.per_s.median:
                ratio = "%.2f" % (s.per_s.median / g.per_s.median)
            runs = "/".join(str(c.runs) for c in (s, g) if c)
            out.write("| %s | %s | %s | %s | %s | %s | %s | %s |\n"
                      % (_harts(h, (s, g)), v, runs, _rate(s), _rate(g),
                         ratio, _us(s), _us(g)))
        out.write("\n")
    return out.getvalue()


# What one operation is, per workload, in the -icount table.
OP_NAME = {"ipc-pingpong": "round trip"}


def _insns(r):
    """Instructions per operation of an icount.csv row (insns_per_op;
    files from before that column have insns_per_fault only)."""
    return r.get("insns_per_op") or r.get("insns_per_fault") or ""


def icount_markdown(rows):
    """Markdown table of icount.csv rows: one line per (workload, variant,
    mib, ptlock) with the operations counted (faults, or round trips),
    every run's instructions per operation and whether the runs agree
    exactly (counts, instructions and lock counts)."""
    groups = {}
    for r in rows:
        name = r["workload"] + (" " + r["variant"] if r.get("variant")
                                else "")
        groups.setdefault((name, r["workload"], int(r["mib"] or 0),
                           r["ptlock"]), []).append(r)
    out = io.StringIO()
    out.write("| workload | mib | ptlock | operations | instructions per "
              "operation (each run) | pt lock acquisitions | identical |\n")
    out.write("|---|---:|---|---:|---:|---:|---|\n")
    for (name, wl, mib, mode), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        ipo = ", ".join(_insns(r) if r["status"] == "ok" else r["status"]
                        for r in rs)
        same = "yes" if len(ok) == len(rs) and icount_identical(rs) else "NO"
        first = ok[0] if ok else {}
        op = OP_NAME.get(wl, "fault")
        count = first.get("ops") if op != "fault" else first.get("faults")
        out.write("| %s | %s | %s | %s | %s | %s | %s |\n"
                  % (name, mib or "–", mode,
                     "%s %ss" % (count, op) if count else "–", ipo,
                     first.get("pt_acquired", "–"), same))
    return out.getvalue()


# What must repeat exactly between two -icount runs of one configuration.
ICOUNT_KEYS = ("faults", "ops", "per_s", "insns_per_fault", "insns_per_op",
               "pt_acquired", "pt_contended", "as_acquired", "as_contended")


def icount_identical(rows):
    """True when every row of @rows (runs of one configuration) has the
    same ICOUNT_KEYS values (a key a row lacks counts as empty)."""
    return len({tuple(r.get(k, "") for k in ICOUNT_KEYS)
                for r in rows}) <= 1


# ------------------------------------------------------------------ plots --

def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend; ImportError when
    python3-matplotlib is not installed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # Reproducible SVG element ids, so regenerated files diff cleanly.
    matplotlib.rcParams["svg.hashsalt"] = "rivet-bench"
    return plt


def _save(fig, out_dir, stem):
    paths = []
    for ext, meta in (("png", {"Software": None}),
                      ("svg", {"Date": None, "Creator": None})):
        p = os.path.join(out_dir, "%s.%s" % (stem, ext))
        fig.savefig(p, dpi=110, bbox_inches="tight", metadata=meta)
        paths.append(p)
    return paths


def _axes(plt, title, harts, cores, ylabel):
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("harts (QEMU -smp; one thread per hart)")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log", base=2)
    ax.set_xticks(harts)
    ax.set_xticklabels([str(h) for h in harts])
    ax.minorticks_off()
    ax.set_xlim(min(harts) / 1.3, max(harts) * 1.3)
    if max(harts) > cores:
        ax.axvspan(cores * 1.3, max(harts) * 1.3, color="0.92", zorder=0,
                   label="over-subscribed (> %d host cores)" % cores)
    ax.grid(True, which="major", alpha=0.4)
    return fig, ax


def _series(by, mode, what):
    xs, ys, lo, hi = [], [], [], []
    for (h, m), c in sorted(by.items()):
        st = getattr(c, what)
        if m != mode or st is None:
            continue
        xs.append(h)
        ys.append(st.median)
        lo.append(st.median - st.min)
        hi.append(st.max - st.median)
    return xs, ys, [lo, hi]


STYLE = {"split": dict(color="tab:blue", marker="o"),
         "single": dict(color="tab:red", marker="s")}
# Each mode's points sit a little left or right of their hart count (a
# factor, on the log2 axis), so that overlapping error bars stay apart.
DODGE = {"split": 0.97, "single": 1.03}
LABEL = {"split": "split: a lock per page-table page",
         "single": "single: one lock per address space"}


def _plot_metric(plt, by, cores, title, ylabel, what, logy_ok):
    harts = sorted({h for h, _ in by})
    fig, ax = _axes(plt, title, harts, cores, ylabel)
    top = bottom = None
    for mode in MODES:
        xs, ys, err = _series(by, mode, what)
        if not xs:
            continue
        ax.errorbar([x * DODGE[mode] for x in xs], ys, yerr=err,
                    capsize=4, linewidth=1.5, label=LABEL[mode],
                    **STYLE[mode])
        lows = [y - e for y, e in zip(ys, err[0])]
        highs = [y + e for y, e in zip(ys, err[1])]
        bottom = min(lows + ([bottom] if bottom is not None else []))
        top = max(highs + ([top] if top is not None else []))
    # Rates here span orders of magnitude (over-subscribed single-lock
    # runs crawl): a log axis keeps the small ones readable.
    if logy_ok and bottom and bottom > 0 and top / bottom > 20:
        ax.set_yscale("log")
        ax.set_ylabel(ylabel + " (log scale)")
    else:
        ax.set_ylim(bottom=0)
    digits = 0 if top and top >= 10 else 2
    ax.yaxis.set_major_formatter(plt.FuncFormatter(
        lambda v, _: "{:,.{}f}".format(v, digits)))
    ax.legend(fontsize=8)
    return fig


def _plot_phases(plt, by, cores, title):
    """Two panels: the rate of each phase against harts, both modes
    (without the reclaimer: solid, with it: dashed), and the per-run ratio
    of the two against harts, with the issue's 90 % target line."""
    harts = sorted({k[0] for k in by})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    fig.suptitle(title, fontsize=11)
    for a in (ax, ax2):
        a.set_xlabel("harts (QEMU -smp)")
        a.set_xscale("log", base=2)
        a.set_xticks(harts)
        a.set_xticklabels([str(h) for h in harts])
        a.minorticks_off()
        a.set_xlim(min(harts) / 1.3, max(harts) * 1.3)
        a.grid(True, which="major", alpha=0.4)
        if max(harts) > cores:
            a.axvspan(cores * 1.3, max(harts) * 1.3, color="0.92",
                      zorder=0, label="over-subscribed (> %d host cores)"
                      % cores)
    phase_style = {PHASES[0]: dict(linestyle="-", label="without reclaimer"),
                   PHASES[-1]: dict(linestyle="--", markerfacecolor="none",
                                    label="with reclaimer")}
    top = top2 = 0
    for mode in MODES:
        for ph in PHASES:
            sub = {(h, m): c for (h, m, p), c in by.items() if p == ph}
            xs, ys, err = _series(sub, mode, "per_s")
            if not xs:
                continue
            st = dict(STYLE[mode])
            st.update(phase_style[ph])
            st["label"] = "%s, %s" % (mode, phase_style[ph]["label"])
            ax.errorbar([x * DODGE[mode] for x in xs], ys, yerr=err,
                        capsize=3, linewidth=1.5, **st)
            top = max([top] + [y + e for y, e in zip(ys, err[1])])
        sub = {(h, m): c for (h, m, p), c in by.items() if p == PHASES[-1]}
        xs, ys, err = _series(sub, mode, "vs_base_pct")
        if xs:
            ax2.errorbar([x * DODGE[mode] for x in xs], ys, yerr=err,
                         capsize=4, linewidth=1.5, label=mode,
                         **STYLE[mode])
            top2 = max([top2] + [y + e for y, e in zip(ys, err[1])])
    ax.set_ylabel("faults/s of the faulting threads")
    ax.set_ylim(0, top * 1.1 if top else 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(
        lambda v, _: "{:,.0f}".format(v)))
    ax.legend(fontsize=7)
    ax2.axhline(90, color="0.3", linestyle=":", linewidth=1.2,
                label="target for split: 90 %")
    ax2.axhline(100, color="0.6", linewidth=0.8)
    ax2.set_ylabel("with / without reclaimer (%, per run)")
    ax2.set_ylim(0, max(115, top2 * 1.05))
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


VARIANT_STYLE = {"same": dict(linestyle="-"),
                 "cross": dict(linestyle="--", markerfacecolor="none")}
VARIANT_DODGE = {"same": 0.98, "cross": 1.02}
VARIANT_LABEL = {"same": "same hart", "cross": "cross hart"}


def _plot_variants(plt, wl, by, cores, title):
    """Two panels against harts, a line per (variant, ptlock): the rate of
    all pairs together, and the time of one operation of one pair (log
    scale: cross-hart round trips on a loaded host span decades)."""
    harts = sorted({k[0] for k in by})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    fig.suptitle(title, fontsize=11)
    for a in (ax, ax2):
        a.set_xlabel("harts (QEMU -smp)")
        a.set_xscale("log", base=2)
        a.set_xticks(harts)
        a.set_xticklabels([str(h) for h in harts])
        a.minorticks_off()
        a.set_xlim(min(harts) / 1.3, max(harts) * 1.3)
        a.grid(True, which="major", alpha=0.4)
        if max(harts) > cores:
            a.axvspan(cores * 1.3, max(harts) * 1.3, color="0.92",
                      zorder=0, label="over-subscribed (> %d host cores)"
                      % cores)
    unit = rate_unit(wl)
    variants = sorted({k[1] for k in by}, key=lambda v: _variant_rank(wl, v))
    lows, highs, rlows, rhighs = [], [], [], []
    for mode in MODES:
        for v in variants:
            sub = {(h, m): c for (h, vv, m), c in by.items() if vv == v}
            st = dict(STYLE[mode])
            st.update(VARIANT_STYLE.get(v, {}))
            label = "%s, %s" % (VARIANT_LABEL.get(v, v), mode)
            dodge = DODGE[mode] * VARIANT_DODGE.get(v, 1.0)
            xs, ys, err = _series(sub, mode, "per_s")
            if xs:
                ax.errorbar([x * dodge for x in xs], ys, yerr=err,
                            capsize=3, linewidth=1.5, label=label, **st)
                rlows += [y - d for y, d in zip(ys, err[0])]
                rhighs += [y + d for y, d in zip(ys, err[1])]
            xs, ys, err = _series(sub, mode, "ns_per_op")
            if xs:
                us = [y / 1000.0 for y in ys]
                e = [[x / 1000.0 for x in err[0]],
                     [x / 1000.0 for x in err[1]]]
                ax2.errorbar([x * dodge for x in xs], us, yerr=e,
                             capsize=3, linewidth=1.5, label=label, **st)
                lows += [y - d for y, d in zip(us, e[0])]
                highs += [y + d for y, d in zip(us, e[1])]
    ax.set_ylabel("%s, all pairs together" % unit)
    # Same-hart and cross-hart rates lie decades apart on a loaded host.
    if rlows and min(rlows) > 0 and max(rhighs) / min(rlows) > 20:
        ax.set_yscale("log")
        ax.set_ylabel("%s, all pairs together (log scale)" % unit)
    else:
        ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(
        lambda v, _: "{:,.0f}".format(v)))
    ax.legend(fontsize=7)
    ax2.set_ylabel("µs per %s of one pair (log scale)"
                   % unit.split("/")[0].rstrip("s"))
    if lows and min(lows) > 0:
        ax2.set_yscale("log")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_sweep(cells, out_dir):
    """Draw, for each workload, throughput-<workload>.{png,svg} (its rate
    against harts, both modes, median with min–max error bars) and
    contended-<workload>.{png,svg} (contended fraction of lock
    acquisitions against harts); for a workload with phases (pf-reclaim,
    pf-reclaim-pager) reclaim-<workload>.{png,svg} instead: each phase's
    rate and their per-run ratio against harts; for a workload with
    variants (ipc-pingpong) throughput-<workload>.{png,svg} only, with a
    line per variant and mode and a second panel of the time per
    operation. A workload run with several region sizes gets "-<mib>mib"
    in its file names. Return the paths written. Raises ImportError when
    matplotlib is missing."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    groups = _groups(cells)
    phased = _phase_groups(cells)
    varied = _variant_groups(cells)
    mibs = {}
    for wl, mib in list(groups) + list(phased) + list(varied):
        mibs.setdefault(wl, []).append(mib)
    paths = []

    def describe(wl, mib, by):
        runs = max(c.runs + c.failed for c in by.values())
        stem = wl if len(mibs[wl]) == 1 else "%s-%dmib" % (wl, mib)
        return stem, "%s%s, median of %d run%s (bars: min–max)" % (
            wl, ", %d MiB" % mib if mib else "", runs,
            "" if runs == 1 else "s")
    for (wl, mib), by in phased.items():
        if not any(c.per_s for c in by.values()):
            continue
        cores = max(c.host_cores for c in by.values())
        stem, sub = describe(wl, mib, by)
        fig = _plot_phases(plt, by, cores, "Faults per second with and "
                           "without the reclaimer\n" + sub)
        paths += _save(fig, out_dir, "reclaim-" + stem)
        plt.close(fig)
    for (wl, mib), by in varied.items():
        if not any(c.per_s for c in by.values()):
            continue
        cores = max(c.host_cores for c in by.values())
        stem, sub = describe(wl, mib, by)
        fig = _plot_variants(plt, wl, by, cores, "%s per second\n%s" % (
            rate_unit(wl).split("/")[0].capitalize(), sub))
        paths += _save(fig, out_dir, "throughput-" + stem)
        plt.close(fig)
    for (wl, mib), by in groups.items():
        if not any(c.per_s for c in by.values()):
            continue
        cores = max(c.host_cores for c in by.values())
        stem, sub = describe(wl, mib, by)
        unit = rate_unit(wl)
        what = "Page faults per second" if unit == "faults/s" else \
            "%s per second" % unit.split("/")[0].capitalize()
        fig = _plot_metric(plt, by, cores, what + "\n" + sub,
                           "%s (%s)" % (unit, "faulting threads"
                                        if wl in OPS_UNIT else
                                        "all threads"), "per_s", True)
        paths += _save(fig, out_dir, "throughput-" + stem)
        plt.close(fig)
        fig = _plot_metric(plt, by, cores,
                           "Contended lock acquisitions (page-table-page "
                           "and address-space locks)\n" + sub,
                           "contended acquisitions (%)", "contended_pct",
                           False)
        paths += _save(fig, out_dir, "contended-" + stem)
        plt.close(fig)
    return paths
