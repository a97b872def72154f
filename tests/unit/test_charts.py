"""The chart infrastructure: the shipped CJK font is the one matplotlib uses, Chinese labels draw as glyphs (not
boxes), and every chart kind renders a PNG whose Chinese texts are covered by the font."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from PIL import Image

from handlers import charts

ROOT = Path(__file__).resolve().parents[2]


def _cjk(s: str) -> bool:
    return any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in s)


def _draw(text: str, family: list[str]) -> np.ndarray:
    fig = Figure(figsize=(3, 1), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.3, text, fontproperties=FontProperties(family=family, size=20))
    buf = io.BytesIO()
    fig.canvas.print_png(buf)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))


def check_cjk_figure(fig: Figure) -> list[str]:
    """Every text of `fig` with Chinese in it resolves to the shipped font file, which has a glyph for each
    character; the figure renders to a PNG without a missing-glyph warning. Returns the Chinese texts."""
    cmap = FT2Font(str(charts.FONT_PATH)).get_charmap()
    found = []
    for t in fig.findobj(Text):
        s = t.get_text()
        if not _cjk(s):
            continue
        found.append(s)
        assert Path(font_manager.findfont(t.get_fontproperties())) == charts.FONT_PATH, s
        missing = [c for c in s if not c.isspace() and ord(c) not in cmap]
        assert not missing, (s, missing)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = charts.png(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (int(charts.WIDTH * charts.DPI), int(charts.HEIGHT * charts.DPI))
    return found


def test_the_shipped_font_is_the_one_matplotlib_resolves():
    assert charts.FONT_PATH.is_file() and (charts.FONT_PATH.parent / "OFL.txt").is_file()
    assert charts.FONT_PATH.stat().st_size < 4_000_000  # a subset, not the 16 MB original
    assert Path(font_manager.findfont(FontProperties(family=charts.FAMILY), fallback_to_default=False)) \
        == charts.FONT_PATH


def test_chinese_draws_glyphs_not_boxes():
    """Two different Chinese words draw differently in our font (missing glyphs would draw identical boxes),
    and differently from the tofu of a font without Chinese."""
    fam = [charts.FAMILY, charts.FALLBACK]
    a, b = _draw("漏斗预测", fam), _draw("客户满意", fam)
    assert (a < 128).sum() > 200 and (b < 128).sum() > 200  # ink on the canvas
    assert (a != b).sum() > 100
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tofu_a, tofu_b = _draw("漏斗预测", ["DejaVu Sans"]), _draw("客户满意", ["DejaVu Sans"])
    assert any("missing from font" in str(w.message) for w in caught)  # the check can see a missing glyph
    assert (tofu_a != tofu_b).sum() == 0 and (a != tofu_a).sum() > 100


def test_every_character_of_the_chinese_interface_is_in_the_font():
    """A chart's labels come from the zh locale and the enum labels: a new key with a character the subset
    lacks fails here (rebuild the font with tools/build_chart_font.py)."""
    cmap = FT2Font(str(charts.FONT_PATH)).get_charmap()
    text = "".join(json.dumps(json.loads(f.read_text(encoding="utf-8")), ensure_ascii=False)
                   for f in (ROOT / "handlers" / "locales" / "zh").glob("*.json"))
    missing = sorted({c for c in text if _cjk(c) and ord(c) not in cmap})
    assert not missing, missing


def test_each_kind_of_chart_renders_chinese():
    f = charts.funnel(title="销售漏斗", labels=["初步接触", "需求分析", "成交"], counts=[5, 3, 1],
                      notes=["5 · ¥100", "3 · ¥80", "1 · ¥50"], conversions=["60%", "33%"], empty="暂无数据")
    assert "初步接触" in check_cjk_figure(f)
    b = charts.bars(title="收入预测", categories=["一月", "二月"], series=[("加权预测", [1.0, 2.0]), ("去年成交", [0, 3.0])],
                    ylabel="金额", fmt=charts.money_short, empty="暂无数据")
    assert "加权预测" in check_cjk_figure(b)
    ln = charts.lines(title="每周趋势", categories=["第1周", "第2周"], series=[("平均评分", [4.5, None])],
                      ylabel="评分", empty="暂无数据")
    assert "每周趋势" in check_cjk_figure(ln)
    e = charts.bars(title="收入预测", categories=["一月"], series=[("加权预测", [0])], ylabel="金额",
                    fmt=charts.money_short, empty="暂无数据")
    assert "暂无数据" in check_cjk_figure(e)


def test_as_file_writes_a_png_the_adapters_send_as_a_picture():
    ref = charts.as_file(b"\x89PNG-data", name="funnel.png", title="Funnel")
    assert Path(ref.path).read_bytes() == b"\x89PNG-data" and ref.mime == "image/png" and ref.name == "funnel.png"
