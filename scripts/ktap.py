"""ktap - read KTAP version 1 test output (the format Linux KUnit prints).

rivet's in-kernel tests and host tests both print one KTAP document:

    KTAP version 1
    1..2                          <- top-level plan: one entry per suite
        KTAP version 1
        # Subtest: libk           <- a suite is a subtest indented 4 spaces
        1..3
            # file.c:12: expected x == y     <- diagnostics of the next case
        not ok 1 printf_matches_libc
        ok 2 strlcpy # SKIP no libc        <- directive after " # "
        ok 3 strtou64
    # libk: pass:1 fail:1 skip:1 total:3
    not ok 1 libk                 <- the suite's own result, at the parent's indent
    ...

The text may come straight from a QEMU serial console, so the parser

  * skips everything before the first "KTAP version" line (firmware banner),
  * ignores lines that are not KTAP (boot messages from other harts, which are
    not indented and do not start with a KTAP keyword), wherever they appear,
  * drops carriage returns and terminal escape sequences,
  * accepts several top-level documents one after another.

A diagnostic line ("# ...") belongs to the next result line at its own level,
as kunit_tool assigns them; diagnostics left over when a test ends stay with
that test.

Usage:

    import ktap
    res = ktap.parse(text)
    res.ok                 # True: at least one document, no errors, no failures
    res.suites             # [Test], each with .name .result .cases
    res.errors             # ["line 12: ...", ...]: malformed or incomplete input
    res.summary()          # "ktap: 3 passed, 1 failed, 1 skipped"

Standard library only.
"""

import re

__all__ = ["Test", "Result", "parse"]

_ESCAPE_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b.")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_VERSION_RE = re.compile(r"^K?TAP version (\d+)\s*$")
_PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(?:#.*)?$")
_RESULT_RE = re.compile(r"^(ok|not ok)\s+(\d+)\b\s*(?:-\s+)?(.*)$")
_SUBTEST_RE = re.compile(r"^#\s*Subtest:\s*(.*?)\s*$")
_DIAG_RE = re.compile(r"^#\s?(.*)$")
_BAIL_RE = re.compile(r"^Bail out!(.*)$")
# The first '#' not escaped by a backslash starts the directive.
_DIRECTIVE_SPLIT_RE = re.compile(r"(?<!\\)#")
_DIRECTIVE_RE = re.compile(r"^\s*(SKIP|TODO|XFAIL)\b\s*(.*?)\s*$", re.I)


class Test:
    """One test: a document root, a suite, a case, or a nested subtest.

    name         test name ("" for a document root)
    number       its number in the parent's plan (None for a root)
    ok           True / False from the result line, None if it never came
    directive    "SKIP", "TODO", "XFAIL" or None
    reason       text after the directive
    diagnostics  list of "# ..." texts that belong to this test
    subtests     child tests (cases of a suite; suites of a document)
    plan         N of "1..N" if this test has a plan, else None
    line         line number (1-based) of its result line, or where it began
    """

    def __init__(self, indent, line, parent=None, name=None):
        self.name = name
        self.number = None
        self.ok = None
        self.directive = None
        self.reason = ""
        self.diagnostics = []
        self.subtests = []
        self.plan = None
        self.version = None
        self.line = line
        self.parent = parent
        self.indent = indent          # indentation of this test's own lines
        self.container = False        # had a plan, a header or a version line
        self._pending = []            # diagnostics for the next child result
        self._numbers = set()

    @property
    def cases(self):
        return self.subtests

    @property
    def skip(self):
        """True when the result carries a SKIP (or TODO/XFAIL) directive."""
        return self.directive is not None

    @property
    def result(self):
        """'pass', 'fail', 'skip' or 'missing' (no result line seen)."""
        if self.ok is None:
            return "missing"
        if self.directive is not None:
            return "skip"
        return "pass" if self.ok else "fail"

    @property
    def failed(self):
        return self.result in ("fail", "missing")

    @property
    def path(self):
        """Dotted name from the suite down, e.g. 'libk.strtou64'."""
        parts = []
        t = self
        while t is not None and t.parent is not None:
            parts.append(t.name or "#%s" % t.number)
            t = t.parent
        return ".".join(reversed(parts))

    def leaves(self):
        """Tests without subtests, depth first, plus any subtest whose own
        result line is missing (it counts as a failure of its own)."""
        if not self.subtests:
            yield self
            return
        for t in self.subtests:
            yield from t.leaves()
        if self.ok is None and self.parent is not None:
            yield self

    def __repr__(self):
        return "Test(%r, %s, %d subtests)" % (self.path or self.name,
                                              self.result, len(self.subtests))


class Result:
    """What parse() returns.

    documents  top-level Test roots, one per "KTAP version" document
    suites     the roots' subtests, all documents together
    errors     messages "line N: ..." for malformed or incomplete input
    ignored    number of non-KTAP lines skipped
    """

    def __init__(self):
        self.documents = []
        self.errors = []
        self.ignored = 0

    @property
    def suites(self):
        return [s for d in self.documents for s in d.subtests]

    @property
    def plan(self):
        """Sum of the top-level plans, or None when no document had one."""
        plans = [d.plan for d in self.documents if d.plan is not None]
        return sum(plans) if plans else None

    @property
    def plans(self):
        return [d.plan for d in self.documents]

    def leaves(self):
        for d in self.documents:
            for s in d.subtests:
                yield from s.leaves()

    def count(self, result):
        return sum(1 for t in self.leaves() if t.result == result)

    @property
    def passed(self):
        return self.count("pass")

    @property
    def failed(self):
        return sum(1 for t in self.leaves() if t.failed)

    @property
    def skipped(self):
        return self.count("skip")

    def failures(self):
        """Failed or missing leaf tests."""
        return [t for t in self.leaves() if t.failed]

    def skips(self):
        return [t for t in self.leaves() if t.result == "skip"]

    @property
    def complete(self):
        return bool(self.documents) and not self.errors

    @property
    def ok(self):
        return self.complete and self.failed == 0

    def summary(self):
        return "ktap: %d passed, %d failed, %d skipped" % (
            self.passed, self.failed, self.skipped)

    def report(self, verbose=False):
        """Human-readable lines: failures with diagnostics, skips, errors."""
        out = []
        for t in self.leaves():
            r = t.result
            if r == "pass" and not verbose:
                continue
            if r == "skip":
                out.append("SKIP %s: %s" % (t.path, t.reason or "(no reason)"))
            elif r == "missing":
                out.append("MISSING %s (no result line)" % t.path)
            else:
                out.append("%s %s" % ("PASS" if r == "pass" else "FAIL",
                                      t.path))
            if r != "pass" or verbose:
                out.extend("    # " + d for d in t.diagnostics)
        out.extend("error: " + e for e in self.errors)
        if not self.documents:
            out.append("error: no KTAP document found")
        return out


def _label(t):
    if t.parent is None:
        return "the document:"
    if t.name:
        return "subtest '%s':" % t.name
    return "subtest #%d:" % (len(t.parent.subtests) + 1)


def _clean(raw):
    line = _ESCAPE_RE.sub("", raw.rstrip("\r\n"))
    line = _CONTROL_RE.sub("", line)
    return line.rstrip()


def _split_description(text):
    """'name # SKIP why' -> ('name', 'SKIP', 'why')."""
    m = _DIRECTIVE_SPLIT_RE.search(text)
    if not m:
        return text.strip().replace("\\#", "#"), None, ""
    name = text[:m.start()].strip().replace("\\#", "#")
    d = _DIRECTIVE_RE.match(text[m.end():])
    if not d:
        return name, None, ""
    return name, d.group(1).upper(), d.group(2)


class _Parser:
    def __init__(self):
        self.res = Result()
        self.stack = []         # open tests, root first
        self.last_root = None   # the last completed document
        self.lineno = 0

    def error(self, msg, line=None):
        self.res.errors.append("line %d: %s" % (line or self.lineno, msg))

    # -- opening and closing ------------------------------------------

    def open_root(self, indent, version):
        if self.stack:
            self.close_all("a new KTAP document started")
        root = Test(indent, self.lineno, name="")
        root.version = version
        root.container = True
        self.res.documents.append(root)
        self.stack = [root]

    def find(self, indent):
        """Index of the open test whose lines are at @indent, or None."""
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].indent == indent:
                return i
            if self.stack[i].indent < indent:
                return None
        return None

    def open_child(self, indent):
        """Open a subtest whose lines are at @indent (> the root's)."""
        while self.stack[-1].indent >= indent:
            self.drop_top("a new subtest started")
        parent = self.stack[-1]
        t = Test(indent, self.lineno, parent)
        t.container = True
        self.stack.append(t)
        return t

    def drop_top(self, why):
        """Close the innermost open subtest that never got its result line."""
        t = self.stack.pop()
        self.error("%s no result line (%s)" % (_label(t), why), t.line)
        self.finish_test(t, quiet_plan=not t.subtests)
        self.attach(self.stack[-1], t, len(self.stack[-1].subtests) + 1)

    def finish_test(self, t, why=None, quiet_plan=False):
        """Checks that can be made once @t has all its lines.

        @why: for a document, why it ended (None: its plan was met)
        @quiet_plan: do not report a missing plan (already reported)
        """
        t.diagnostics.extend(t._pending)
        t._pending = []
        if not t.container:
            return
        what = _label(t)
        if t.parent is None and why:
            what = "KTAP document incomplete (%s):" % why
        n = len(t.subtests)
        if t.plan is None:
            if not quiet_plan:
                self.error("%s no plan, %d result%s" % (
                    what, n, "" if n == 1 else "s"), t.line)
        elif t.plan != n:
            self.error("%s plan 1..%d but %d result%s" % (
                what, t.plan, n, "" if n == 1 else "s"), t.line)
        if t.ok is True and t.directive is None:
            bad = [c for c in t.subtests if c.failed]
            if bad:
                self.error("'%s' reported ok but '%s' failed"
                           % (t.name, bad[0].name), t.line)

    def attach(self, parent, t, number):
        """Record @t as result number @number of @parent."""
        t.number = number
        t.parent = parent
        if number in parent._numbers:
            self.error("duplicate test number %d in %s" % (
                number, "'%s'" % parent.name if parent.parent else
                "the top-level plan"))
        elif number != len(parent.subtests) + 1:
            self.error("test number %d out of order (expected %d)"
                       % (number, len(parent.subtests) + 1))
        parent._numbers.add(number)
        parent.subtests.append(t)

    def close_all(self, why):
        while len(self.stack) > 1:
            self.drop_top(why)
        if self.stack:
            root = self.stack.pop()
            self.finish_test(root, why)
            self.last_root = root

    def maybe_complete(self):
        if len(self.stack) == 1:
            root = self.stack[0]
            if root.plan is not None and len(root.subtests) >= root.plan:
                self.stack.pop()
                self.finish_test(root)
                self.last_root = root

    # -- lines ----------------------------------------------------------

    def feed(self, raw):
        self.lineno += 1
        line = _clean(raw)
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        if not content or content[0] == "\t":
            self.res.ignored += bool(content)
            return

        m = _VERSION_RE.match(content)
        if m:
            version = int(m.group(1))
            if not self.stack and self.last_root is not None and \
                    indent > self.last_root.indent:
                # A subtest after its document's plan was met: its lines
                # are ignored and its result line reported.
                self.res.ignored += 1
            elif not self.stack or indent <= self.stack[0].indent:
                self.open_root(indent, version)
            else:
                self.open_child(indent).version = version
            return

        if not self.stack:
            if (self.last_root is not None and _RESULT_RE.match(content)
                    and indent == self.last_root.indent):
                self.error("result line after the end of the plan: %s"
                           % content)
            self.res.ignored += 1
            return
        root = self.stack[0]

        m = _BAIL_RE.match(content)
        if m:
            self.error("bail out:%s" % m.group(1))
            self.close_all("bail out")
            return

        if indent < root.indent:
            self.res.ignored += 1
            return

        m = _SUBTEST_RE.match(content)
        if m:
            top = self.stack[-1]
            fresh = (top is not root and top.indent == indent
                     and top.name is None and top.plan is None
                     and not top.subtests)
            if indent <= root.indent:
                top._pending.append(content[1:].strip())
                return
            if not fresh:
                top = self.open_child(indent)
            top.name = m.group(1)
            return

        m = _PLAN_RE.match(content)
        if m:
            i = self.find(indent)
            if i is None:
                if indent < self.stack[-1].indent:
                    self.res.ignored += 1
                    return
                t = self.open_child(indent)
            else:
                while len(self.stack) > i + 1:
                    self.drop_top("plan line of its parent seen")
                t = self.stack[i]
            if t.plan is not None:
                self.error("second plan 1..%s for '%s'" % (m.group(1),
                                                           t.name or "?"))
                return
            t.plan = int(m.group(1))
            self.maybe_complete()
            return

        m = _RESULT_RE.match(content)
        if m:
            self.result(indent, m.group(1) == "ok", int(m.group(2)),
                        m.group(3))
            return

        m = _DIAG_RE.match(content)
        if m:
            text = (m.group(1) or "").strip()
            for t in reversed(self.stack):
                if t.indent <= indent:
                    t._pending.append(text)
                    break
            return

        self.res.ignored += 1

    def result(self, indent, ok, number, description):
        i = self.find(indent)
        if i is None:
            if indent < self.stack[-1].indent:
                self.res.ignored += 1
                return
            self.open_child(indent)
            i = len(self.stack) - 1
        parent = self.stack[i]
        if len(self.stack) > i + 1:
            while len(self.stack) > i + 2:
                self.drop_top("its parent's result line came first")
            t = self.stack.pop()
        else:
            t = Test(indent + 4, self.lineno, parent)
        name, directive, reason = _split_description(description)
        if t.name is not None and name and name != t.name:
            self.error("result '%s' does not match subtest '%s'"
                       % (name, t.name))
        if not t.name:
            t.name = name
        t.ok = ok
        t.directive = directive
        t.reason = reason
        t.line = self.lineno
        t.diagnostics.extend(parent._pending)
        parent._pending = []
        self.finish_test(t)
        self.attach(parent, t, number)
        self.maybe_complete()

    def finish(self):
        if self.stack:
            self.close_all("input ended")
        return self.res


def parse(text):
    """Parse KTAP from @text (str, or bytes decoded as UTF-8); see Result."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    p = _Parser()
    for raw in text.splitlines():
        p.feed(raw)
    return p.finish()
