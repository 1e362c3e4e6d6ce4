"""Fixtures for the QEMU boot tests (tests/system/).

`boot(harts, mem, append=None, timeout=None, image=None, extra=())` runs
one QEMU boot of <build>/rivet.bin (or of @image, with @extra QEMU
arguments) and returns a qemu.Boot. Boots run one after another: the
host has two cores, and a boot with more harts than that is already
over-subscribed.

Timeouts: 60 s, 120 s from 16 harts up; $BOOT_TIMEOUT_SCALE multiplies them
on a slower machine.

A boot in which a secondary hart did not answer the kernel's start
request within its 10 s wait (`smp: hart N failed to start (no answer in
10 s)`, the vCPU thread starved by a loaded host) is run once more, and
the test's transcripts keep both; a hart that fails to start twice fails
the test as before. (scripts/bench retries such runs the same way.)

A test that fails before saving a log itself (an exception, say) still gets
the console log of each of its boots saved under <build>/test-logs/, by the
hook in tests/conftest.py.
"""

import os
import shutil

import pytest

import qemu

SCALE = float(os.environ.get("BOOT_TIMEOUT_SCALE") or "1")


HART_STARVED = "failed to start (no answer in"


def default_timeout(harts):
    return (120 if harts >= 16 else 60) * SCALE


@pytest.fixture(scope="session")
def kernel(build_dir):
    img = build_dir / "rivet.bin"
    if not img.is_file():
        pytest.fail("%s is missing: build it with `make` (make test does)"
                    % img, pytrace=False)
    if shutil.which(qemu.QEMU) is None:
        pytest.fail("%s not found: run scripts/deps.sh" % qemu.QEMU,
                    pytrace=False)
    return img


@pytest.fixture
def boot(request, kernel):
    def run(harts, mem, append=None, timeout=None, image=None, extra=()):
        """@image: boot this file instead of <build>/rivet.bin;
        @extra: more QEMU arguments (e.g. ["-dtb", path])."""
        transcripts = getattr(request.node, "rivet_transcripts", [])
        for attempt in range(2):
            b = qemu.boot(image or kernel, harts, mem, append,
                          timeout=timeout or default_timeout(harts),
                          extra=extra)
            transcripts.append(b.transcript)
            if not any(HART_STARVED in line for line in b.lines):
                break
        request.node.rivet_transcripts = transcripts
        return b
    return run
