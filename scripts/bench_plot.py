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
    "workload", "harts", "ptlock", "repeat", "seq", "threads", "seconds",
    "mib", "faults", "per_s", "ns_per_op", "contended_pct",
    "pt_acquired", "pt_contended", "pt_wait_ns",
    "as_acquired", "as_contended", "as_wait_ns",
    "wall_s", "host_cores", "oversubscribed", "host_load", "status",
]
ICOUNT_COLUMNS = RUN_COLUMNS + ["insns_per_fault"]

# summary.csv: one row per (workload, mib, harts, ptlock) cell.
SUMMARY_COLUMNS = [
    "workload", "mib", "harts", "ptlock", "runs", "failed",
    "per_s_median", "per_s_min", "per_s_max",
    "contended_pct_median", "contended_pct_min", "contended_pct_max",
    "ns_per_op_median", "host_cores", "oversubscribed",
]

MODES = ("split", "single")

Stat = namedtuple("Stat", "median min max")
Cell = namedtuple("Cell", "workload mib harts ptlock runs failed per_s "
                  "contended_pct ns_per_op host_cores")


class CsvError(ValueError):
    """A CSV file that is not what scripts/bench writes."""


def read_runs(path, columns=RUN_COLUMNS):
    """The rows of @path as dicts of strings. Raises CsvError when a
    column of @columns is missing, OSError when the file cannot be read."""
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        missing = [c for c in columns if c not in (r.fieldnames or [])]
        if missing:
            raise CsvError("%s: missing column(s) %s" % (path,
                                                         ", ".join(missing)))
        return list(r)


def write_runs(path, rows, columns=RUN_COLUMNS):
    """Write @rows (dicts) to @path with a header line."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _stat(values):
    return Stat(statistics.median(values), min(values), max(values))


def summarise(runs):
    """Cells (sorted by workload, mib, harts, split before single) with the
    median, min and max over the runs whose status is "ok"; a cell whose
    runs all failed has per_s etc. set to None."""
    groups = {}
    for r in runs:
        key = (r["workload"], int(r["mib"]), int(r["harts"]), r["ptlock"])
        groups.setdefault(key, []).append(r)
    cells = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2],
                                             MODES.index(k[3])
                                             if k[3] in MODES else 9)):
        rs = groups[key]
        ok = [r for r in rs if r["status"] == "ok"]
        cores = max(int(r["host_cores"]) for r in rs)
        if ok:
            per_s = _stat([int(r["per_s"]) for r in ok])
            cont = _stat([float(r["contended_pct"]) for r in ok])
            nspo = _stat([int(r["ns_per_op"]) for r in ok])
        else:
            per_s = cont = nspo = None
        cells.append(Cell(key[0], key[1], key[2], key[3], len(ok),
                          len(rs) - len(ok), per_s, cont, nspo, cores))
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
            w.writerow([c.workload, c.mib, c.harts, c.ptlock, c.runs,
                        c.failed,
                        _fmt(p and p.median), _fmt(p and p.min),
                        _fmt(p and p.max),
                        "%.2f" % k.median if k else "",
                        "%.2f" % k.min if k else "",
                        "%.2f" % k.max if k else "",
                        _fmt(n and n.median), c.host_cores,
                        "yes" if c.harts > c.host_cores else "no"])


def _groups(cells):
    """{(workload, mib): {(harts, ptlock): cell}} in first-seen order."""
    out = {}
    for c in cells:
        out.setdefault((c.workload, c.mib), {})[(c.harts, c.ptlock)] = c
    return out


def _thousands(n):
    return "{:,}".format(int(round(n))).replace(",", " ")


def summary_markdown(cells):
    """Markdown: one table per workload, split and single side by side,
    faults/s as median (min–max) and the split/single ratio of medians."""
    out = io.StringIO()
    for (wl, mib), by in _groups(cells).items():
        out.write("%s, mib=%d\n\n" % (wl, mib))
        out.write("| harts | runs | split faults/s median (min–max) "
                  "| single faults/s median (min–max) | split/single "
                  "| split contended % | single contended % |\n")
        out.write("|---:|---:|---:|---:|---:|---:|---:|\n")
        for h in sorted({h for h, _ in by}):
            s, g = by.get((h, "split")), by.get((h, "single"))
            over = any(c and c.harts > c.host_cores for c in (s, g))

            def rate(c):
                if not c or not c.per_s:
                    return "–"
                return "%s (%s–%s)" % (_thousands(c.per_s.median),
                                       _thousands(c.per_s.min),
                                       _thousands(c.per_s.max))

            def cont(c):
                if not c or not c.contended_pct:
                    return "–"
                k = c.contended_pct
                if k.min == k.max:
                    return "%.2f" % k.median
                return "%.2f (%.2f–%.2f)" % (k.median, k.min, k.max)
            ratio = "–"
            if s and g and s.per_s and g.per_s and g.per_s.median:
                ratio = "%.2f" % (s.per_s.median / g.per_s.median)
            runs = "/".join(str(c.runs) for c in (s, g) if c)
            out.write("| %d%s | %s | %s | %s | %s | %s | %s |\n"
                      % (h, " (over-subscribed)" if over else "", runs,
                         rate(s), rate(g), ratio, cont(s), cont(g)))
        out.write("\n")
    return out.getvalue()


def icount_markdown(rows):
    """Markdown table of icount.csv rows: one line per (workload, mib,
    ptlock) with every run's instructions per fault and whether the runs
    agree exactly (faults, instructions and lock counts)."""
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], int(r["mib"]), r["ptlock"]),
                          []).append(r)
    out = io.StringIO()
    out.write("| workload | mib | ptlock | faults | instructions/fault "
              "(each run) | pt lock acquisitions | identical |\n")
    out.write("|---|---:|---|---:|---:|---:|---|\n")
    for (wl, mib, mode), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        ipf = ", ".join(r["insns_per_fault"] if r["status"] == "ok"
                        else r["status"] for r in rs)
        same = "yes" if len(ok) == len(rs) and icount_identical(rs) else "NO"
        first = ok[0] if ok else {}
        out.write("| %s | %d | %s | %s | %s | %s | %s |\n"
                  % (wl, mib, mode, first.get("faults", "–"), ipf,
                     first.get("pt_acquired", "–"), same))
    return out.getvalue()


# What must repeat exactly between two -icount runs of one configuration.
ICOUNT_KEYS = ("faults", "per_s", "insns_per_fault", "pt_acquired",
               "pt_contended", "as_acquired", "as_contended")


def icount_identical(rows):
    """True when every row of @rows (runs of one configuration) has the
    same ICOUNT_KEYS values."""
    return len({tuple(r[k] for k in ICOUNT_KEYS) for r in rows}) <= 1


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


def plot_sweep(cells, out_dir):
    """Draw, for each workload, throughput-<workload>.{png,svg} (faults/s
    against harts, both modes, median with min–max error bars) and
    contended-<workload>.{png,svg} (contended fraction of lock
    acquisitions against harts). A workload run with several region sizes
    gets "-<mib>mib" in its file names. Return the paths written.
    Raises ImportError when matplotlib is missing."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    groups = _groups(cells)
    mibs = {}
    for wl, mib in groups:
        mibs.setdefault(wl, []).append(mib)
    paths = []
    for (wl, mib), by in groups.items():
        if not any(c.per_s for c in by.values()):
            continue
        cores = max(c.host_cores for c in by.values())
        runs = max(c.runs + c.failed for c in by.values())
        stem = wl if len(mibs[wl]) == 1 else "%s-%dmib" % (wl, mib)
        sub = "%s, %d MiB, median of %d run%s (bars: min–max)" % (
            wl, mib, runs, "" if runs == 1 else "s")
        fig = _plot_metric(plt, by, cores, "Page faults per second\n" + sub,
                           "faults/s (all threads)", "per_s", True)
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
