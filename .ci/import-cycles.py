#!/usr/bin/env python3
"""Checks that evloop's modules import each other in one direction: no
module of the loop (rt) imports the futures layer or the Node modules, none
of the futures layer imports the Node modules, and no modules import each
other in a cycle except the one design.md defends.

Reads every module under src/ (tests excluded), collects the modules each
one names in `use` statements and in qualified paths (`crate::a::b`,
`super::x`, a child module's name), follows a re-export (`pub use x::Y` in
a mod.rs) to the module that defines the item, and finds the strongly
connected components of that graph: a component of more than one module is
an import cycle. A cycle design.md ("Imports point one way") defends may be listed in
ALLOWED with the reason (none is); any other cycle fails the check.

Limits: paths are read per file, so `super::` inside an inline `mod x { }`
is read as the file's own `super::` (write such imports from `crate::`).

Usage: .ci/import-cycles.py [MODULE...]
  prints the cycles, and for each MODULE given the modules it imports;
  exits 1 if there is a cycle that is not allowed.
"""
import glob
import re
import sys

# Deliberate cycles, each defended in design.md: none since the teardown
# (which runs context's drop hooks) left rt::core.
ALLOWED = []

SKIP = ("src/lib.rs", "src/test_watchdog.rs")


def module_of(path):
    p = path[len("src/"):-len(".rs")]
    if p.endswith("/mod"):
        p = p[: -len("/mod")]
    return p.replace("/", "::")


files = {
    module_of(f): f
    for f in glob.glob("src/**/*.rs", recursive=True)
    if f not in SKIP and not f.endswith("/tests.rs")
}


def source(path):
    text = open(path, encoding="utf-8").read()
    # Unit tests may import anything: cut the test module off.
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"pub\(in [^)]*\)", "pub", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def parent(m):
    return m.rsplit("::", 1)[0] if "::" in m else ""


def expand(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", tree))
    depth, start, out = 0, None, []
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if start is None:
        return [tree]
    prefix, inner = tree[:start], tree[start + 1 : tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [prefix + q for p in parts if p for q in expand(p)]


def absolute(m, path):
    """The crate-absolute form of `path` as written in module `m`, or None
    for a path outside the crate."""
    segs = [s for s in path.split("::") if s]
    segs = [s.split("@")[0] for s in segs]
    if not segs:
        return None
    base = None
    if segs[0] == "crate":
        base, segs = "", segs[1:]
    while segs and segs[0] in ("super", "self"):
        base = (m if base is None else base)
        base = parent(base) if segs[0] == "super" else base
        segs = segs[1:]
    if base is None:
        if (m + "::" + segs[0] if m else segs[0]) in files:
            base = m
        else:
            return None
    return "::".join(([base] if base else []) + segs)


def imports(m):
    text = source(files[m])
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths += expand(tree)
    paths += re.findall(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text)
    return [a for a in (absolute(m, p) for p in paths) if a]


# Re-exports: module -> {name: absolute path of what it names}. The crate
# root's count too (`crate::spawn` names rt::executor::task's `spawn`), but
# the root itself is only a list of re-exports, not a node of the graph.
files[""] = "src/lib.rs"
reexports = {}
for m in files:
    text = source(files[m])
    for tree in re.findall(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
        for p in expand(tree):
            a = absolute(m, p)
            if a:
                reexports.setdefault(m, {})[a.rsplit("::", 1)[-1]] = a


def defining_module(path, seen=0):
    """The module whose file defines what `path` names."""
    segs = path.split("::")
    for k in range(len(segs), -1, -1):
        mod = "::".join(segs[:k])
        if mod in files or (k == 0 and mod in reexports):
            rest = segs[k:]
            if rest and rest[0] in reexports.get(mod, {}) and seen < 16:
                target = reexports[mod][rest[0]]
                if target != path:
                    return defining_module(target, seen + 1)
            return mod or None
    return None


del files[""]
edges = {m: set() for m in files}
for m in files:
    for a in imports(m):
        d = defining_module(a)
        if d and d != m:
            edges[m].add(d)

# Tarjan's strongly connected components.
sys.setrecursionlimit(10000)
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = set()
        while True:
            w = stack.pop()
            on.discard(w)
            comp.add(w)
            if w == v:
                break
        sccs.append(comp)


for v in sorted(files):
    if v not in index:
        visit(v)

# The layers, bottom up: a module may import its own layer and those below.
LAYERS = ["rt", "futures", "node"]
bad = 0
for m in sorted(edges):
    for d in sorted(edges[m]):
        if LAYERS.index(d.split("::")[0]) > LAYERS.index(m.split("::")[0]):
            bad += 1
            print(f"UPWARD: {m} imports {d}")
for comp in sorted((c for c in sccs if len(c) > 1), key=len, reverse=True):
    allowed = comp in ALLOWED
    bad += not allowed
    print(f"{'allowed' if allowed else 'CYCLE'} ({len(comp)}): {', '.join(sorted(comp))}")
for m in sys.argv[1:]:
    print(f"{m} -> {', '.join(sorted(edges.get(m, ())))}")
if bad:
    print("an upward import or a cycle other than the allowed one: see design.md, 'Imports point one way'", file=sys.stderr)
sys.exit(1 if bad else 0)
