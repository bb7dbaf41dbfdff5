"""Which text of a PDF page or a Word paragraph a reader can actually see.

Documents can carry text nobody sees: white on a white page, the "invisible" PDF render
mode, fully transparent, a point or two high, off the page, Word's hidden-text flag. A
planted instruction hides there, so it is not content: extraction leaves it out (HTML's
hidden elements are dropped in `extract` the same way).

PDF: the test is the one a reader makes. The page is rendered, and text whose place on
it is blank (no contrast) is not content. Colour alone would be wrong (white headings on
a dark band are visible; an OCR layer is invisible text over a visible scan), so colour
and render mode only pick the characters worth checking, and only pages that have such
characters are rendered. Word has no rendering here: white text counts as hidden unless
the run, paragraph or cell is shaded or highlighted (a background it could show on).
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

# Grey levels (0-255) a glyph must differ from its surroundings by to be readable: text
# under 1/8 of full contrast (#EEE on white) is not something a reader sees. Anything
# lighter or darker than that band is kept, so this only decides near-invisible text.
MIN_CONTRAST = 32
# Type under 2 points (0.7 mm) cannot be read at the zoom a reader uses; real fine print
# is 5-6 points, and none of the suite's PDFs sets text this small.
MIN_FONT_PT = 2.0
_SCALE = 2  # 144 dpi: 4-point text is 8 pixels high, enough to see contrast
_MAX_PIXELS = 4000  # a poster-sized page is rendered smaller: its bitmap stays under 16 MB
_INVISIBLE_MODES = (3, 7)  # PDF text render modes that paint nothing (7 only clips)
_LIGHT = 0.8  # a fill this light (0-1) may be text on a page of the same colour


def font_pt(obj: Any) -> float:
    """A text object's type size on the page: its font size times its matrix's scale
    (TeX and typesetters set `1 Tf` and scale the matrix instead)."""
    import pypdfium2.raw as pdfium_c

    size, m = ctypes.c_float(), pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFTextObj_GetFontSize(obj, ctypes.byref(size)):
        return MIN_FONT_PT  # unknown: not called tiny
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return size.value
    return size.value * math.sqrt(abs(m.a * m.d - m.b * m.c))


def _unseen_fill(r: ctypes.c_uint, g: ctypes.c_uint, b: ctypes.c_uint, a: ctypes.c_uint) -> bool:
    """A fill that may not show: nearly transparent, or light enough to match the page."""
    light = (0.299 * r.value + 0.587 * g.value + 0.114 * b.value) / 255 >= _LIGHT
    return a.value < MIN_CONTRAST or light


def _off_page(box: tuple[float, float, float, float], crop: tuple[float, ...]) -> bool:
    left, bottom, right, top = box
    return right < crop[0] or top < crop[1] or left > crop[2] or bottom > crop[3]


def _suspect(raw: Any, index: int, obj: Any) -> bool:
    """Cheap per-character test: could this character (of text object `obj`) be unseen?"""
    import pypdfium2.raw as pdfium_c

    if obj and pdfium_c.FPDFTextObj_GetTextRenderMode(obj) in _INVISIBLE_MODES:
        return True
    fill = [ctypes.c_uint() for _ in range(4)]
    return bool(
        pdfium_c.FPDFText_GetFillColor(raw, index, *map(ctypes.byref, fill)) and _unseen_fill(*fill)
    )


def _page_has_suspects(page: Any) -> bool:
    """Any text object on the page that is invisible, transparent, light, tiny or off
    the page: most pages have none and are never rendered."""
    import pypdfium2.raw as pdfium_c

    crop = page.get_cropbox()
    fill = [ctypes.c_uint() for _ in range(4)]
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) in _INVISIBLE_MODES:
            return True
        has_fill = pdfium_c.FPDFPageObj_GetFillColor(obj.raw, *map(ctypes.byref, fill))
        if has_fill and _unseen_fill(*fill):
            return True
        if font_pt(obj.raw) < MIN_FONT_PT or _off_page(obj.get_bounds(), crop):
            return True
    return False


def hidden_chars(page: Any, textpage: Any) -> set[int]:
    """Indices (as in `textpage.get_text_range()`) of the characters a reader cannot see."""
    if not _page_has_suspects(page):
        return set()
    import numpy as np
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    crop = page.get_cropbox()
    hidden: set[int] = set()
    runs: list[list[int]] = []  # consecutive suspect characters on one line
    boxes: dict[int, tuple[float, float, float, float]] = {}  # of each suspect non-space
    for i in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(raw, i))
        if char in "\r\n":
            continue  # a run never crosses a line: its box would take in the next one
        if char.isspace():
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)  # a space inside a hidden line stays with it
            continue
        box = textpage.get_charbox(i)
        obj = pdfium_c.FPDFText_GetTextObject(raw, i)
        if _off_page(box, crop) or (obj and font_pt(obj) < MIN_FONT_PT):
            hidden.add(i)
            continue
        if _suspect(raw, i, obj):
            boxes[i] = box
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    if not runs:
        return hidden
    scale = min(_SCALE, _MAX_PIXELS / max(page.get_size()))
    bitmap = page.render(scale=scale, grayscale=True)
    pixels = np.asarray(bitmap.to_numpy())
    if pixels.ndim == 3:
        pixels = pixels[..., 0]
    rows, cols = pixels.shape[:2]

    def device(x: float, y: float) -> tuple[int, int]:
        """Page point to bitmap pixel (pdfium applies the crop box and the page's rotation)."""
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(
            page.raw, 0, 0, cols, rows, 0, x, y, ctypes.byref(dx), ctypes.byref(dy)
        )
        return dx.value, dy.value

    for run in runs:
        corners = []
        for left, bottom, right, top in (boxes[i] for i in run if i in boxes):
            corners += [device(left, bottom), device(right, top)]
        x0, x1 = min(x for x, _ in corners), max(x for x, _ in corners) + 1
        y0, y1 = min(y for _, y in corners), max(y for _, y in corners) + 1
        patch = pixels[max(0, y0) : min(rows, y1), max(0, x0) : min(cols, x1)]
        if patch.size == 0 or int(patch.max()) - int(patch.min()) < MIN_CONTRAST:
            hidden.update(run)
    return hidden


def _shaded(element: Any) -> bool:
    """A run, paragraph or cell with a background colour of its own."""
    from docx.oxml.ns import qn

    for shd in element.xpath("./w:rPr/w:shd | ./w:pPr/w:shd | ./w:tcPr/w:shd"):
        if (shd.get(qn("w:fill")) or "").lower() not in ("", "auto", "ffffff"):
            return True
    return bool(element.xpath("./w:rPr/w:highlight"))


def _style_value(run: Any, paragraph: Any, name: str) -> Any:
    """A font property as Word resolves it: the run, its character style, the paragraph
    style and that style's ancestors, first set value wins."""
    value = getattr(run.font, name)
    styles = [getattr(run, "style", None), getattr(paragraph, "style", None)]
    while value is None and styles:
        style = styles.pop(0)
        if style is None:
            continue
        value = getattr(style.font, name, None)
        styles.append(getattr(style, "base_style", None))
    return value


def _run_hidden(run: Any, paragraph: Any, shaded: bool) -> bool:
    if _style_value(run, paragraph, "hidden"):
        return True
    size = _style_value(run, paragraph, "size")
    if size is not None and size.pt < MIN_FONT_PT:
        return True
    color = _style_value(run, paragraph, "color")
    rgb = getattr(color, "rgb", None) if color is not None else None
    return rgb is not None and min(rgb) >= 0xF0 and not (shaded or _shaded(run._r))


def visible_run_text(paragraph: Any, cell: Any = None) -> str:
    """A Word paragraph's text without its hidden runs (see the module docstring)."""
    from docx.text.hyperlink import Hyperlink

    shaded = _shaded(paragraph._p) or (cell is not None and _shaded(cell._tc))
    parts = []
    for item in paragraph.iter_inner_content():
        runs = item.runs if isinstance(item, Hyperlink) else [item]
        parts += [r.text for r in runs if not _run_hidden(r, paragraph, shaded)]
    return "".join(parts)
