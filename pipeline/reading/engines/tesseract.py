"""The one module that talks to the tesseract binary.

    probe()                       binary on PATH, its version, chi_sim installed
    run_tesseract(image, ...)     one page: argv list, own environment, timeout
    parse_tsv / lines_from(...)   tesseract's output into models.Line

How we call it, and why (shared/ocr-notes.md):
- `OMP_THREAD_LIMIT=1` in the child: tesseract's OpenMP threads make it ~4x slower on
  2 cores (fact 1); we run two single-threaded pages at once instead.
- an uncompressed PGM/PPM in a temp dir, not pytesseract's PNG round trip (fact 2, ~0.9 s/page).
- `-l chi_sim` only: adding `eng` makes Chinese worse (fact 3); `--psm 6` (one uniform
  block) on the prepared page.
- text from the `txt` renderer, boxes from `tsv`, in one run: the TSV has words only, and
  joining them loses how tesseract itself spaces a line (it puts no space between most
  Chinese words but some between others: fact 5); the two renderers emit the same lines.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.page import Box, Line, Page
from pipeline.reading.engines.interface import ocr_page, ocr_threads
from pipeline.errors import EngineError, MissingDependency

LANGUAGE = "chi_sim"
PSM = "6"
PROBE_TIMEOUT = 30.0
DEFAULT_PAGE_TIMEOUT = 120.0
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
EMPTY_PAGE = "Empty page!!"


@dataclass(frozen=True)
class RunOutput:
    txt: str
    tsv: str
    warnings: list[str]


class TesseractEngine:
    name = "tesseract"
    def __init__(self, binary: str = "tesseract") -> None:
        self.binary = binary
        self.parallel_pages = ocr_threads()  # one single-threaded tesseract per core (ocr-notes fact 1)
        self._version: str | None = None

    @property
    def version(self) -> str:
        if self._version is None:
            self.probe()
        assert self._version is not None
        return self._version

    def probe(self) -> None:
        self._version = probe(self.binary)

    def read(self, image: np.ndarray, *, page_number: int, dpi: float | None, timeout: float | None = None) -> Page:
        started = time.perf_counter()
        out = run_tesseract(image, binary=self.binary, dpi=dpi, timeout=timeout or DEFAULT_PAGE_TIMEOUT)
        lines, parse_warnings = lines_from(out.txt, out.tsv)
        return ocr_page(
            self,
            number=page_number,
            image=image,
            dpi=dpi,
            lines=lines,
            seconds=time.perf_counter() - started,
            warnings=out.warnings + parse_warnings,
        )


# --- probe --------------------------------------------------------------------------------------


def probe(binary: str = "tesseract") -> str:
    """The installed version ("5.3.0"); MissingDependency if the binary or chi_sim is absent."""
    if shutil.which(binary) is None:
        raise MissingDependency(f"the OCR program {binary!r} is not installed (not on PATH)", hint=INSTALL_HINT)
    version_out = _probe_call([binary, "--version"])
    match = re.search(r"tesseract\s+v?(\d+\.\d+[\w.\-]*)", version_out)
    if not match:
        raise EngineError(f"{binary} --version printed no tesseract version: {version_out[:200]!r}")
    langs = _probe_call([binary, "--list-langs"]).split()
    if LANGUAGE not in langs:
        raise MissingDependency(
            f"tesseract {match.group(1)} has no {LANGUAGE} language data (has: {', '.join(langs[-10:]) or 'none'})",
            hint=INSTALL_HINT,
        )
    return match.group(1)


def _probe_call(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=PROBE_TIMEOUT, env=child_env())
    except FileNotFoundError as e:
        raise MissingDependency(f"the OCR program {argv[0]!r} is not installed", hint=INSTALL_HINT) from e
    except subprocess.TimeoutExpired as e:
        raise EngineError(f"`{' '.join(argv)}` hung for {PROBE_TIMEOUT:.0f} s: tesseract is broken") from e
    except OSError as e:  # not executable, wrong architecture
        raise EngineError(f"cannot run {argv[0]!r}: {e}", hint=INSTALL_HINT) from e
    if done.returncode != 0:
        raise EngineError(f"`{' '.join(argv)}` failed with exit code {done.returncode}: {tail(done.stderr)}", hint=INSTALL_HINT)
    # tesseract 3.x printed its version on stderr, 4.x+ on stdout
    return (done.stdout + done.stderr).decode("utf-8", errors="replace")


# --- run ----------------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def tesseract_argv(binary: str, image_path: Path, out_base: Path, dpi: float | None) -> list[str]:
    argv = [binary, str(image_path), str(out_base), "-l", LANGUAGE, "--psm", PSM]
    if dpi:
        # without it tesseract guesses from the x-height and warns "Invalid resolution 0 dpi"
        argv += ["--dpi", str(round(dpi))]
    return argv + ["txt", "tsv"]


def write_uncompressed(image: np.ndarray, folder: Path) -> Path:
    """PGM for grey, PPM for colour: no encoder on our side, no decoder on tesseract's."""
    if image.ndim == 2:
        path = folder / "page.pgm"
        ok = cv2.imwrite(str(path), image)
    else:
        path = folder / "page.ppm"
        ok = cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise EngineError(f"cannot write the page image for tesseract to {path}")
    return path


def run_tesseract(image: np.ndarray, *, binary: str, dpi: float | None, timeout: float) -> RunOutput:
    """OCR one page; quirks become warnings, a broken binary EngineError."""
    with tempfile.TemporaryDirectory(prefix="gongwen-tess-") as tmp:
        folder = Path(tmp)
        argv = tesseract_argv(binary, write_uncompressed(image, folder), folder / "out", dpi)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout, env=child_env())
        except subprocess.TimeoutExpired:
            # quirk: tesseract can spin for minutes on noise-only pages (halftone, photos);
            # subprocess.run has killed it: an empty page, the file goes on
            return RunOutput("", "", [f"tesseract timed out after {timeout:g} s: page left unread"])
        except FileNotFoundError as e:
            raise MissingDependency(f"the OCR program {binary!r} disappeared", hint=INSTALL_HINT) from e
        except OSError as e:
            raise EngineError(f"cannot run {binary!r}: {e}") from e
        stderr = done.stderr.decode("utf-8", errors="replace")
        if done.returncode != 0:
            # a crash (SIGSEGV, abort, missing traineddata at run time) is the binary's fault, not the page's
            raise EngineError(f"tesseract failed with exit code {done.returncode}: {tail(done.stderr)}", hint=INSTALL_HINT)
        txt_path, tsv_path = folder / "out.txt", folder / "out.tsv"
        if not txt_path.exists() or not tsv_path.exists():
            raise EngineError(f"tesseract exited 0 but wrote no output: {tail(done.stderr)}")
        warnings: list[str] = []
        txt = decode_output(txt_path.read_bytes(), warnings)
        tsv = decode_output(tsv_path.read_bytes(), warnings)
    if EMPTY_PAGE in stderr or not txt.strip():
        # quirk: tesseract prints "Empty page!!" on stderr (exit 0) when it finds no text
        warnings.append("tesseract found no text on the page")
    return RunOutput(txt, tsv, warnings)


def read_line(image: np.ndarray, *, language: str = "eng", allowed: str | None = None, binary: str = "tesseract", timeout: float = 20.0) -> str:
    """One line of text from a small crop (`--psm 7`): the second reading of an address or number.

    `eng` reads Latin letters and digits far better than `chi_sim`, which mixes them up with
    look-alikes (l/1, O/0); `allowed` limits the characters (tesseract 5 honours the whitelist
    in its LSTM recogniser). Returns "" when tesseract cannot read the crop or times out.
    """
    argv_extra = ["-c", f"tessedit_char_whitelist={allowed}"] if allowed else []
    with tempfile.TemporaryDirectory(prefix="gongwen-tess-line-") as tmp:
        path = write_uncompressed(image, Path(tmp))
        argv = [binary, str(path), "stdout", "-l", language, "--psm", "7", *argv_extra]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout, env=child_env())
        except (subprocess.TimeoutExpired, OSError):
            return ""
    if done.returncode != 0:
        return ""
    return done.stdout.decode("utf-8", errors="replace").strip()


def decode_output(data: bytes, warnings: list[str]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # quirk: tesseract writes UTF-8, but a wrapper script or a broken build can leave junk
        # bytes in the output files; the page is still worth its readable lines
        warnings.append("tesseract output was not UTF-8: undecodable bytes replaced with U+FFFD")
        return data.decode("utf-8", errors="replace")


def tail(stderr: bytes, limit: int = 300) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return (text[-limit:] if text else "no message").replace("\n", " | ")


# --- parse --------------------------------------------------------------------------------------


@dataclass
class TsvLine:
    words: list[str]
    box: Box
    confs: list[float]


def parse_tsv(tsv: str, warnings: list[str]) -> list[TsvLine]:
    """Word rows (level 5) grouped into tesseract's lines, in tesseract's order."""
    lines: dict[tuple[str, str, str, str], TsvLine] = {}
    bad_rows = 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            bad_rows += len(cells) < 12 and bool(row.strip())
            continue
        text = "\t".join(cells[11:])
        if not text.strip():
            continue
        try:
            left, top, width, height = (int(v) for v in cells[6:10])
            conf = float(cells[10])
        except ValueError:
            bad_rows += 1
            continue
        box = Box(x0=left, y0=top, x1=left + width, y1=top + height)
        key = (cells[1], cells[2], cells[3], cells[4])  # page, block, paragraph, line
        if key in lines:
            line = lines[key]
            line.words.append(text)
            line.box = line.box.union(box)
            line.confs.append(conf)
        else:
            lines[key] = TsvLine([text], box, [conf])
    if bad_rows:
        # quirk: a garbled TSV (truncated write, a wrapper that printed to it) – keep the good rows
        warnings.append(f"tesseract TSV output had {bad_rows} malformed rows, skipped")
    return list(lines.values())


def lines_from(txt: str, tsv: str) -> tuple[list[Line], list[str]]:
    """Lines with tesseract's own text (txt renderer) and boxes and confidences (TSV)."""
    warnings: list[str] = []
    boxed = parse_tsv(tsv, warnings)
    texts = [line for line in txt.splitlines() if line.strip()]
    if len(texts) != len(boxed):
        if texts or boxed:
            warnings.append(
                f"tesseract's txt ({len(texts)} lines) and tsv ({len(boxed)} lines) disagree: text rebuilt from words"
            )
        texts = [join_words(line.words) for line in boxed]
    lines = []
    for text, tl in zip(texts, boxed):
        confs = [c for c in tl.confs if c >= 0]
        lines.append(Line(text=text, box=tl.box, conf=round(sum(confs) / len(confs), 2) if confs else None))
    return lines, warnings


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def join_words(words: list[str]) -> str:
    """Fallback join: no space where either side is Chinese, one space between Latin words."""
    out = words[0] if words else ""
    for word in words[1:]:
        out += word if CJK.match(word[0]) or CJK.match(out[-1]) else " " + word
    return out
