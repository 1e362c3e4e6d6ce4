"""The stress server pf-anon, as the benchmark runs it: one `bench` line
with every key, lock statistics, and a usage message for bad arguments.
(Timings are not checked here: benchmarks are for `make bench`.)"""
import re

import pytest

from test_boot import check_boot, verdict

BENCH_RE = re.compile(
    r"^bench (?:pf-anon|pf-samept) harts=(\d+) threads=(\d+) ptlock=(split|single) "
    r"seconds=(\d+) mib=(\d+) faults=(\d+) per_s=(\d+) ns_per_op=(\d+) "
    r"contended_pct=(\d+\.\d\d)$")


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
