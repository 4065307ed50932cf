#!/usr/bin/env python3
"""Rebuild assets/fonts/NotoSansSC-doorstep.otf from Debian's fonts-noto-cjk.

The tablet needs one font that covers Latin, CJK punctuation, the CJK Unified
Ideographs and Extension A (rare characters in names, e.g. 䶮), fullwidth forms
and bopomofo. The Simplified Chinese face is taken out of the Noto Sans CJK
collection and subset to those ranges without hinting, which keeps it at about
11 MB instead of 19 MB for the collection.

Needs: apt-get install fonts-noto-cjk python3-fonttools
Run:   /usr/bin/python3 scripts/make-font.py
"""
import io
import pathlib
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = "Noto Sans CJK SC"
OUT = pathlib.Path(__file__).resolve().parent.parent / "assets/fonts/NotoSansSC-doorstep.otf"
RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x2000, 0x206F), (0x2100, 0x218F),
    (0x2190, 0x21FF), (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x2600, 0x26FF),
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F), (0x31A0, 0x31BF),
    (0x3200, 0x32FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
]


def add_format12(font: TTFont) -> None:
    """With ~29,000 characters the format 4 subtable exceeds its 16-bit length, and readers
    that trust the length (ttf-parser: fontdue, ab_glyph) lose characters beyond 64 KB. Add the
    format 12 subtables that the original font has, which have no such limit."""
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

    mapping = font.getBestCmap()
    cmap = font["cmap"]
    for platform, encoding in ((3, 10), (0, 4)):
        if any(t.platformID == platform and t.platEncID == encoding for t in cmap.tables):
            continue
        table = CmapSubtable.newSubtable(12)
        table.platformID, table.platEncID, table.language = platform, encoding, 0
        table.cmap = dict(mapping)
        cmap.tables.append(table)
    cmap.tables.sort(key=lambda t: (t.platformID, t.platEncID, t.language))


def main() -> int:
    faces = TTCollection(SOURCE).fonts
    face = next((f for f in faces if f["name"].getDebugName(4) == FACE), None)
    if face is None:
        print(f"{FACE} not found in {SOURCE}", file=sys.stderr)
        return 1
    buf = io.BytesIO()
    face.save(buf)
    buf.seek(0)
    font = TTFont(buf)
    opts = subset.Options()
    opts.hinting = False
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[u for lo, hi in RANGES for u in range(lo, hi + 1)])
    sub.subset(font)
    add_format12(font)
    font.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
