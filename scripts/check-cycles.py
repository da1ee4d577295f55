#!/usr/bin/env python3
"""Fails when a Rust source file depends, through a chain of imports, on itself.

Usage: scripts/check-cycles.py [crate_src_dir ...]   (default: src server/src)

The graph: one node per module file; an edge from file A to file B when A names an item that
B defines (`use crate::…`, `use super::…`, or an inline `crate::a::b::f(…)` path). Re-exports
(`pub use`) are followed to the module that defines the item, so importing through a façade
such as `crate::engine::Store` is an edge to `engine/store/cache.rs`, not to `engine/mod.rs`;
a `mod.rs` that only declares and re-exports its children depends on nothing. `#[cfg(test)]`
modules at the end of a file are left out: they are the file's tests, not its dependencies.
Other crates (`sync_core::` seen from the server, std, dependencies) are not followed.

A cycle is reported as the files of one strongly connected component, with one import per
edge, so the message says which `use` to move. Exit status 1 when there is any.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_files(src):
    """{module path tuple: file} for one crate rooted at src (lib.rs or main.rs)."""
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]):
                mods[()] = path
                continue
            if rel[-1] == "mod":
                rel = rel[:-1]
            mods[tuple(rel)] = path
    return mods


def strip_tests_and_comments(text):
    m = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod \w+ \{", text, re.M)
    if m:
        text = text[: m.start()]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    return text


def expand_use_tree(tree):
    """'a::{b, c::{d, e as f}, self}' -> [['a','b'], ['a','c','d'], ['a','c','e'], ['a']]"""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        # split s at top-level commas
        depth, parts, cur = 0, [], ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        for p in parts:
            if "{" in p:
                head, rest = p.split("{", 1)
                walk(prefix + [x for x in head.split("::") if x], rest[:-1])
            else:
                p = p.split("as")[0] if re.search(r"\bas\b", p) else p
                segs = [x for x in p.split("::") if x]
                if segs == ["self"]:
                    out.append(prefix)
                elif segs and segs != ["*"]:
                    out.append(prefix + [x for x in segs if x != "*"])
                elif segs == ["*"]:
                    out.append(prefix)

    walk([], tree)
    return out


def absolute(mod, segs):
    """Resolves crate/super/self to a path from the crate root; None for other crates."""
    if not segs:
        return None
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        base = list(mod)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        return base + segs
    return None


def analyse(src):
    mods = module_files(src)
    texts = {m: strip_tests_and_comments(open(p).read()) for m, p in mods.items()}
    # Re-export tables: module -> {name: absolute path of what it re-exports}
    reexports = {m: {} for m in mods}
    uses = {m: [] for m in mods}
    for m, text in texts.items():
        for vis, tree in re.findall(r"(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
            for segs in expand_use_tree(tree):
                if not segs:
                    continue
                # `use a::b;` where a is a child module declared here is relative to self
                if segs[0] not in ("crate", "super", "self") and (m + (segs[0],)) in mods:
                    segs = ["self"] + segs
                path = absolute(m, segs)
                if path is None:
                    continue
                uses[m].append(path)
                if vis:
                    reexports[m][path[-1]] = path
        code = re.sub(r"\buse\s+[^;]+;", "", text)
        for inline in re.findall(r"(?<![\w:])((?:crate|super)(?:::" + IDENT + r")+)", code):
            path = absolute(m, inline.split("::"))
            if path is not None:
                uses[m].append(path)
        # `child::item` inline, for a child module declared here (`mod child;`)
        for child, item in re.findall(r"(?<![\w:])(" + IDENT + r")::(" + IDENT + r")", code):
            if (m + (child,)) in mods and child not in ("crate", "super", "self"):
                uses[m].append(list(m) + [child, item])

    def resolve(path, seen=0):
        """The module file that defines what `path` names."""
        for cut in range(len(path), -1, -1):
            if tuple(path[:cut]) in mods:
                owner, rest = tuple(path[:cut]), path[cut:]
                break
        else:
            return None
        if not rest:
            return owner
        target = reexports[owner].get(rest[0])
        if target is not None and seen < 20 and target != path:
            return resolve(target + rest[1:], seen + 1)
        return owner

    edges = {m: {} for m in mods}
    for m, paths in uses.items():
        for path in paths:
            if not path or reexports[m].get(path[-1]) == path:
                continue  # a re-export is a façade, not a dependency of the façade itself
            to = resolve(path)
            if to is not None and to != m and to not in edges[m]:
                edges[m][to] = "::".join(path)
    return mods, edges


def cycles(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            strong(v)
    return out


def self_test():
    """The checker finds a two-file cycle, a cycle through a child's inline path, and no
    cycle where a façade re-exports its children's items to each other."""
    import tempfile

    cases = {
        "cycle": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::B; pub struct A;",
                   "b.rs": "use crate::a::A; pub struct B;"}, 1),
        "inline child path": ({"lib.rs": "mod p;", "p/mod.rs": "mod c; pub fn h() { c::f() }",
                               "p/c.rs": "pub fn f() { super::h() }"}, 1),
        "facade": ({"lib.rs": "mod e;", "e/mod.rs": "mod x; mod y; pub use x::X; pub use y::Y;",
                    "e/x.rs": "use crate::e::Y; pub struct X;", "e/y.rs": "pub struct Y;"}, 0),
        "test module": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::B; pub struct A;",
                         "b.rs": "pub struct B;\n#[cfg(test)]\nmod tests {\n use crate::a::A;\n}"}, 0),
    }
    for name, (files, expected) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
                with open(os.path.join(root, path), "w") as f:
                    f.write(text)
            found = len(cycles(analyse(root)[1]))
            if found != expected:
                print(f"self-test '{name}': {found} cycle(s), expected {expected}")
                return 1
    return 0


def main(dirs):
    if self_test():
        return 1
    bad = 0
    for src in dirs:
        mods, edges = analyse(src)
        for comp in cycles(edges):
            bad += 1
            print(f"import cycle in {src}:")
            members = set(comp)
            for m in comp:
                for to, via in edges[m].items():
                    if to in members:
                        print(f"  {mods[m]} -> {mods[to]}  (crate::{via})")
        print(f"{src}: {len(mods)} files, {sum(len(e) for e in edges.values())} imports between them")
    if bad:
        print(f"{bad} import cycle(s): move the shared item into a leaf both sides can import")
        return 1
    print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src", "server/src"]))
