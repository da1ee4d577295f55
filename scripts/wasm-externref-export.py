#!/usr/bin/env python3
"""Repoints the export `__wbindgen_externrefs` at the module's externref table, in place.

Why: Debian's binaryen 108 (scripts/optimize-wasm.sh) writes that export with the index of the
funcref table (table 0) even when run with no pass at all (`wasm-opt -O0` on the wasm-bindgen
output shows it), and wasm-bindgen's glue then fails at load: `WebAssembly.Table.set(): ...
function-typed object must be null`. The table itself and every `table.get/set/grow` on it are
written correctly. A binaryen that writes the export right leaves nothing to change here.
Exits 1 if the module has no such export or no externref table (a wasm-bindgen that stopped
exporting it would need this script changed, not skipped).
"""
import sys

EXTERNREF = 0x6F
TABLE_SECTION, EXPORT_SECTION = 4, 7
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


def main(path):
    data = bytearray(open(path, "rb").read())
    tables, export_at = [], None
    for sid, start, end in sections(data):
        if sid == TABLE_SECTION:
            count, i = leb(data, start)
            for _ in range(count):
                tables.append(data[i])
                flags = data[i + 1]
                _, i = leb(data, i + 2)
                if flags & 1:
                    _, i = leb(data, i)
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
    externref = [t for t, reftype in enumerate(tables) if reftype == EXTERNREF]
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
