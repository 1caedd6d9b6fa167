"""Shared test fixtures."""

import importlib.util
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.reading.engines import get_engine
from pipeline.reading.engines.tesseract import TesseractEngine

# --- rendered Chinese pages (reading stage) -----------------------------------------------------

PREFERRED_CJK_FONTS = ("NotoSerifCJK-Regular", "NotoSansCJK-Regular", "wqy-zenhei")
NOTICE_LINES = (
    "临汾市民政局关于深入学习贯彻重要回信精神的通知",
    "各县（市、区）民政局、老龄办：",
    "根据民政部、全国老龄办安排，现就有关事项通知如下。",
    "请于11月20日前报送工作总结，联系人：晋白雪。",
)

RenderPage = Callable[..., np.ndarray]


def find_cjk_font() -> Path | None:
    """A font with simplified Chinese glyphs, as fontconfig lists them (Noto Serif CJK SC first)."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    files = [Path(line.split(":")[0].strip()) for line in listed.splitlines() if line.strip()]
    for name in PREFERRED_CJK_FONTS:
        for file in files:
            if file.name.startswith(name):
                return file
    return files[0] if files else None


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font: fc-list :lang=zh found none (apt-get install fonts-noto-cjk)")
    return font


@pytest.fixture(scope="session")
def render_page(cjk_font: Path) -> RenderPage:
    """render_page(lines, width=1400, size=40, red_header=None) -> RGB uint8 page with black text
    lines on white, one line per 2 × size pixels, optionally a red header line and red rule on top."""

    def render(
        lines: tuple[str, ...] = NOTICE_LINES,
        *,
        width: int = 1400,
        size: int = 40,
        red_header: str | None = None,
    ) -> np.ndarray:
        # .ttc index 2 is the SC (simplified) face in Noto CJK collections; other fonts have one face
        index = 2 if cjk_font.name.startswith("Noto") and cjk_font.suffix == ".ttc" else 0
        font = ImageFont.truetype(str(cjk_font), size, index=index)
        big = ImageFont.truetype(str(cjk_font), size * 2, index=index)
        top = size * 6 if red_header else size
        height = top + len(lines) * size * 2 + size
        im = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(im)
        if red_header:
            draw.text((size * 2, size), red_header, font=big, fill=(220, 20, 30))
            draw.rectangle((size, size * 4, width - size, size * 4 + 4), fill=(220, 20, 30))
        for i, text in enumerate(lines):
            draw.text((size, top + i * size * 2), text, font=font, fill="black")
        return np.asarray(im)

    return render


# --- a fake tesseract on PATH (fault injection, no OCR) -------------------------------------------

FAKE = """#!/bin/sh
case "$1" in
  --version) echo "tesseract 5.3.0"; echo " leptonica-1.82.0"; exit 0 ;;
  --list-langs) echo 'List of available languages in "/fake/" (2):'; echo "{langs}"; exit 0 ;;
esac
out="$2"
{action}
"""

ACTIONS = {
    "crash": 'echo "Segmentation fault" >&2; exit 139',
    "hang": "sleep 30",
    "garbage": "printf 'ok\\377\\376 line\\n' > \"$out.txt\"; printf 'level\\tbroken\\n5\\t1\\n' > \"$out.tsv\"",
    "empty": "echo 'Empty page!!' >&2; : > \"$out.txt\"; printf 'level\\tpage_num\\n' > \"$out.tsv\"",
    "silent": "exit 0",
}


@pytest.fixture
def fake_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., TesseractEngine]]:
    """install(action, langs="chi_sim eng osd") puts a fake `tesseract` first on PATH."""

    def install(action: str = "silent", langs: str = "chi_sim\neng\nosd") -> TesseractEngine:
        script = tmp_path / "tesseract"
        script.write_text(FAKE.format(langs=langs, action=ACTIONS[action]))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        get_engine.cache_clear()  # get_engine("tesseract") must probe the fake, not reuse the real one
        return TesseractEngine()

    yield install
    get_engine.cache_clear()


REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real"


@pytest.fixture(scope="session")
def real_tally():
    """The real notices in ../shared/real parsed once and scored in place by that folder's own
    score.py: (tally, misses). The texts are never copied here; without the folder the tests skip."""
    if not (REAL / "score.py").exists():
        pytest.skip(f"{REAL} is absent: the real notices are scored only where ../shared/real is checked out")
    from pipeline.run import parse_file

    spec = importlib.util.spec_from_file_location("real_score", REAL / "score.py")
    assert spec and spec.loader
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    t, misses = score.Tally(), []
    for path in sorted(REAL.glob("[0-9][0-9].txt")):
        label = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        result, _ = parse_file(path)
        docs = result.model_dump(mode="json")["documents"]
        for gold in label.get("documents", [label]):
            score.score_one(gold, docs, t, misses, path.name)
    return t, misses
