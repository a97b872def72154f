"""Build `handlers/fonts/CRMSansSC-Regular.otf`: the charts' CJK font, a subset of Noto Sans CJK SC Regular.

Charts must draw Chinese on a machine that has only what `pip install` brings, so the font ships with the
package. The whole of Noto Sans CJK is 16 MB per face; this subset keeps Latin, the punctuation and symbols of
both languages, every character of GB2312 (the 6,763 hanzi of everyday simplified Chinese: 99.99 % of modern
text) and every character of the zh locale files (so the interface's own labels are always covered). Glyphs
outside it (rare characters in a customer's name) fall back to DejaVu Sans, matplotlib's own font.

The family is renamed "CRM Sans SC": the SIL Open Font License (handlers/fonts/OFL.txt) lets a modified version
carry any name but the reserved "Source", and a distinct name keeps matplotlib from picking an installed Noto
Sans CJK instead of ours.

    apt-get install fonts-noto-cjk      # the source font (Debian)
    python tools/build_chart_font.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "handlers" / "fonts" / "CRMSansSC-Regular.otf"
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FAMILY = "CRM Sans SC"


def gb2312() -> set[int]:
    out: set[int] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            ch = bytes([hi, lo]).decode("gb2312", errors="replace")
            if ch != "\ufffd":  # a code GB2312 leaves unassigned
                out.add(ord(ch))
    return out


def locale_chars() -> set[int]:
    out: set[int] = set()

    def walk(v: object) -> None:
        if isinstance(v, str):
            out.update(ord(c) for c in v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for f in sorted((ROOT / "handlers" / "locales" / "zh").glob("*.json")):
        walk(json.loads(f.read_text(encoding="utf-8")))
    return out


def codepoints() -> set[int]:
    base = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) | set(range(0x2000, 0x2070))
    base |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | set(range(0x2190, 0x2200))
    base |= {0x20AC, 0x2103, 0x2116, 0x2122, 0x2212, 0x25B2, 0x25BC, 0x2605, 0x2606, 0x00D7}
    return base | gb2312() | locale_chars()


def main(source: str = SOURCE) -> None:
    sc = next(f for f in TTCollection(source).fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    tmp = OUT.with_suffix(".full.otf")
    sc.save(tmp)
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.hinting = False
    font = subset.load_font(str(tmp), opts)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=codepoints())
    sub.subset(font)
    for rec in font["name"].names:
        if rec.nameID in (1, 3, 4, 6, 16):
            text = rec.toUnicode()
            ps = rec.nameID == 6
            rec.string = (text.replace("Noto Sans CJK SC", FAMILY).replace("NotoSansCJKsc", "CRMSansSC")
                          if (FAMILY not in text) else text)
            if ps:
                rec.string = "CRMSansSC-Regular"
    font["CFF "].cff.fontNames = ["CRMSansSC-Regular"]
    subset.save_font(font, str(OUT), opts)
    tmp.unlink()
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size:,} bytes, {len(font.getBestCmap()):,} characters")


if __name__ == "__main__":
    main(*sys.argv[1:2])
