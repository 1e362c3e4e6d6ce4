"""Host unit tests: one pytest test per built binary.

`make test` first builds every tests/host/<name>/ program twice, into
<build>/host/asan/<name> (AddressSanitizer + UBSan) and
<build>/host/tsan/<name> (ThreadSanitizer); this module runs each one with
the arguments its test.mk gives in <name>_ARGS, parses the KTAP it prints,
and fails on any failed case, a malformed document, a sanitizer report or a
non-zero exit. The full output of a failed run is saved under
<build>/test-logs/.
"""

import os
import re
import shlex
import subprocess
import time

import pytest

import ktap  # scripts/ktap.py, put on sys.path by conftest.py

# As in conftest.py; computed here too because parametrization needs them at
# import time and conftest modules are not meant to be imported.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("O") or "build")

SANITIZERS = ("asan", "tsan")
TIMEOUT = int(os.environ.get("HOST_TEST_TIMEOUT", "300"))
# Lines that start a sanitizer's report on stderr.
SAN_REPORT_RE = re.compile(
    r"^(==\d+==ERROR: |WARNING: ThreadSanitizer|ThreadSanitizer:|"
    r".*: runtime error: |SUMMARY: \w+Sanitizer)", re.M)
# TSan (and, rarely, ASan) cannot map its shadow memory under the host
# kernel's full mmap randomisation; such a run is retried with ASLR off.
SAN_MAPPING_RE = re.compile(r"unexpected memory mapping|"
                            r"failed to allocate .* shadow|"
                            r"Shadow memory range interleaves")
# Host cases that must run, not skip: {KTAP path: why they could not}. The
# VisionFive 2 tree is compiled from Debian's linux-source-6.12, which
# scripts/deps.sh installs (make test runs it first); a skip means the
# package is missing or tests/host/dt/test.mk no longer finds its tarball.
MUST_RUN = {
    "bootinfo.visionfive2_facts":
        "the VisionFive 2 device tree was not built: install "
        "linux-source-6.12 (scripts/deps.sh does) and check DT_LINUX_TAR "
        "in tests/host/dt/test.mk",
}


def discover():
    bins = []
    for san in SANITIZERS:
        d = os.path.join(BUILD, "host", san)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                bins.append((san, name))
    return bins


BINARIES = discover()


@pytest.fixture(scope="session")
def host_args():
    """{name: [args]} from the Makefile's <name>_ARGS, for every host test.

    Asks make once, through a makefile fragment on stdin that prints each
    variable at parse time, so nothing needs adding to the Makefile.
    """
    fragment = ("$(foreach t,$(HOST_TESTS),"
                "$(info rivet-host-args $(t)=$($(t)_ARGS)))\n"
                "rivet-print-host-args: ; @:\n")
    cmd = ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-"]
    if os.environ.get("O"):
        cmd.append("O=" + os.environ["O"])
    cmd.append("rivet-print-host-args")
    args = {}
    try:
        p = subprocess.run(cmd, cwd=ROOT, input=fragment, text=True,
                           capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return args
    for line in p.stdout.splitlines():
        if line.startswith("rivet-host-args "):
            name, _, value = line[len("rivet-host-args "):].partition("=")
            args[name] = shlex.split(value)
    return args


def run_binary(cmd):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        rc = None
    return rc, out, err, time.monotonic() - t0


def sanitizer_report(err, limit=60):
    """The sanitizer's report from @err (from its first line), else ''."""
    m = SAN_REPORT_RE.search(err)
    if not m:
        return ""
    lines = err[m.start():].splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more lines in the log)"
                                 % (len(lines) - limit)]
    return "\n".join(lines)


def describe_rc(rc):
    if rc is None:
        return "killed after %d s (timeout)" % TIMEOUT
    if rc < 0:
        return "killed by signal %d" % -rc
    return "exit status %d" % rc


@pytest.mark.host
@pytest.mark.skipif(not BINARIES, reason="no host test binaries in %s/host; "
                    "run `make host-tests` (make test builds them)" % BUILD)
@pytest.mark.parametrize("san,name", BINARIES or [("none", "none")],
                         ids=["%s/%s" % b for b in BINARIES] or ["none"])
def test_host(san, name, host_args, log_path, notes):
    exe = os.path.join(BUILD, "host", san, name)
    cmd = [exe] + host_args.get(name, [])
    rc, out, err, secs = run_binary(cmd)
    retried = False
    if rc != 0 and SAN_MAPPING_RE.search(err):
        retried = True
        rc, out, err, secs = run_binary(["setarch", os.uname().machine, "-R"]
                                        + cmd)

    res = ktap.parse(out)
    problems = []
    if rc != 0:
        problems.append(describe_rc(rc))
    for t in res.failures():
        problems.append("%s %s" % ("missing" if t.result == "missing"
                                   else "failed", t.path))
        problems.extend("    # " + d for d in t.diagnostics[-10:])
    problems.extend("KTAP: " + e for e in res.errors)
    if not res.documents:
        problems.append("KTAP: no document on stdout")
    seed = re.search(r"^\s*# seed=(\d+)", out, re.M)
    if problems and seed:
        problems.append("random seed %s: rerun with  %s seed=%s" % (
            seed.group(1), shlex.join(cmd), seed.group(1)))
    report = sanitizer_report(err)
    if report:
        problems.append("sanitizer report:\n" + report)

    for t in res.skips():
        if t.path in MUST_RUN:
            problems.append("skipped %s: %s" % (t.path, MUST_RUN[t.path]))
        notes("skipped %s: %s" % (t.path, t.reason or "no reason given"))
    if retried:
        notes("re-run with ASLR off (setarch -R): sanitizer could not map "
              "its shadow memory")

    if problems:
        log = ("$ %s\n# %s, %.1f s\n# ---- stdout ----\n%s\n"
               "# ---- stderr ----\n%s" % (shlex.join(cmd), describe_rc(rc),
                                            secs, out, err))
        path = log_path(log)
        pytest.fail("%s/%s: %s\n%s\nfull output: %s" % (
            san, name, res.summary(), "\n".join(problems), path),
            pytrace=False)
