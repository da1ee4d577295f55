#!/usr/bin/env python3
"""Repoints the export `__wbindgen_externrefs` at the module's externref table, in place.

Why: Debian's binaryen 108 (scripts/optimize-wasm.sh) writes that export with the index of the
funcref table (table 0) even when run with no pass at all (`wasm-opt -O0` on the wasm-bindgen
output shows it), and wasm-bindgen's glue then fails at load: `WebAssembly.Table.set(): ...
function-typed object must be null`. The table itself and every `table.get/set/grow` on it are
written correctly. A binaryen that writes the export right leaves nothing to change here.
Exits 1 if the module has no such export or not exactly one externref table of its own (a
wasm-bindgen that stopped exporting it would need this script changed, not skipped), or holds
what this reader does not parse (typed references, tables with an initial value, a section that
does not parse to its end): it refuses rather than patch a byte it may have misplaced. Imported
tables are counted first, as the index space numbers them.
"""
import sys

EXTERNREF = 0x6F
# Table entries this script can read: a one-byte reference type (funcref 0x70, externref 0x6F).
# 0x40 (a table with an initial value) and 0x63/0x64 (typed references) are refused.
SIMPLE_REFTYPES = (0x70, EXTERNREF)
IMPORT_SECTION, TABLE_SECTION, EXPORT_SECTION = 2, 4, 7
IMPORT_TABLE = 1
EXPORT_NAME = b"__wbindgen_externrefs"


def leb(data, i):
    """An unsigned LEB128 at i: (value, index after it)."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def sections(data):
    """(id, start of content, end) of every section."""
    i = 8
    while i < len(data):
        size, start = leb(data, i + 1)
        yield data[i], start, start + size
        i = start + size


def skip_name(data, i):
    n, i = leb(data, i)
    return i + n


def skip_limits(data, i):
    flags = data[i]
    _, i = leb(data, i + 1)
    if flags & 1:
        _, i = leb(data, i)
    return i


def imported_tables(data, start):
    """How many tables the import section at `start` imports (they are numbered first)."""
    count, i = leb(data, start)
    tables = 0
    for _ in range(count):
        i = skip_name(data, skip_name(data, i))
        kind = data[i]
        i += 1
        if kind == 0:  # function: type index
            _, i = leb(data, i)
        elif kind == IMPORT_TABLE:
            tables += 1
            if data[i] not in SIMPLE_REFTYPES:
                sys.exit(f"imported table of type {data[i]:#x}: not handled")
            i = skip_limits(data, i + 1)
        elif kind == 2:  # memory: limits
            i = skip_limits(data, i)
        elif kind == 3:  # global: value type, mutability
            if data[i] in (0x63, 0x64):
                sys.exit("imported global of a typed reference type: not handled")
            i += 2
        elif kind == 4:  # tag: attribute, type index
            _, i = leb(data, i + 1)
        else:
            sys.exit(f"import of kind {kind}: not handled")
    return tables, i


def main(path):
    data = bytearray(open(path, "rb").read())
    tables, export_at, first = [], None, 0
    for sid, start, end in sections(data):
        i = None
        if sid == IMPORT_SECTION:
            first, i = imported_tables(data, start)
        elif sid == TABLE_SECTION:
            count, i = leb(data, start)
            for _ in range(count):
                if data[i] not in SIMPLE_REFTYPES:
                    sys.exit(f"{path}: table entry of type {data[i]:#x}: not handled")
                tables.append(data[i])
                i = skip_limits(data, i + 1)
        elif sid == EXPORT_SECTION:
            count, i = leb(data, start)
            for _ in range(count):
                n, i = leb(data, i)
                name = bytes(data[i : i + n])
                i += n
                kind = data[i]
                index_at = i + 1
                _, i = leb(data, index_at)
                if name == EXPORT_NAME and kind == 1:
                    export_at = index_at
        if i is not None and i != end:
            sys.exit(f"{path}: section {sid} did not parse to its end")
    externref = [first + t for t, reftype in enumerate(tables) if reftype == EXTERNREF]
    if export_at is None or len(externref) != 1:
        sys.exit(f"{path}: no table export {EXPORT_NAME.decode()} or not one externref table")
    current, after = leb(data, export_at)
    if current == externref[0]:
        return
    # Table indices here are below 128: one LEB128 byte each, so the patch keeps every size.
    if after - export_at != 1 or externref[0] >= 0x80:
        sys.exit(f"{path}: table index does not fit one byte")
    data[export_at] = externref[0]
    open(path, "wb").write(data)


if __name__ == "__main__":
    main(sys.argv[1])
