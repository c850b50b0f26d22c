#!/usr/bin/env python3
"""Prints evloop's public API, one line per item, from the HTML that
`cargo doc --no-deps` wrote to target/doc/evloop: every item the crate
exports, and on each type's or trait's page its methods, associated items,
variants, fields and trait implementations. Sorted, so that two lists diff
cleanly: .ci/run compares it with docs/public-api.txt, and a change to the
public surface shows up there as a diff to review and commit.

Usage: .ci/public-api.py [DOC_DIR]   (default target/doc/evloop)
"""
import html
import os
import re
import sys

doc = sys.argv[1] if len(sys.argv) > 1 else "target/doc/evloop"
with open(os.path.join(doc, "all.html"), encoding="utf-8") as f:
    index = f.read()

items = sorted(set(re.findall(r'<a href="([a-z0-9_/]+/)?((?:struct|enum|trait|fn|macro|constant|type|static|union|attr|derive)\.[A-Za-z0-9_]+\.html)"', index)))
# Members worth listing: anchors rustdoc gives each of them.
member = re.compile(r'id="((?:method|tymethod|associatedtype|associatedconstant|variant|structfield|impl)[.-][^"]+)"')
lines = set()
for folder, page in items:
    kind, name = page.split(".")[:2]
    path = (folder or "").replace("/", "::") + name
    lines.add(f"{kind} {path}")
    with open(os.path.join(doc, folder or "", page), encoding="utf-8") as f:
        text = f.read()
    for anchor in member.findall(text):
        anchor = html.unescape(anchor)
        # rustdoc numbers repeated anchors (impl-Foo-for-Bar-1): keep them,
        # they are stable for one source and change only when impls do.
        lines.add(f"{kind} {path} {anchor}")
for line in sorted(lines):
    print(line)
