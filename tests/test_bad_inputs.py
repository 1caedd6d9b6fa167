"""Bad inputs, one test each: every one ends with a status and a reason naming the file, the batch
goes on, and nothing stored is lost. The files are made here, in tmp folders, not committed.

Most share one batch (module fixture) so the worker processes start once; the fault-injecting
ones (a crashing, hanging or ballooning reader; fake tesseract binaries) need batches of their own.
The database filling up mid-batch is in test_ingest.py (test_store_failure_defers_the_rest_…).
"""

import hashlib
import json
import os
import random
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline import ingest

from pipeline import store
from pipeline.errors import ExitCode
from pipeline.ingest import Outcome
from tests.conftest import FAKE, RenderPage
from tests.test_ingest import make_zip, notice, run_batch, write
from tests.test_load import jpeg_bytes, make_pdf, png_header, scan_page

MEMORY_MB = 1536  # small enough that a stream inflating to 2 GiB cannot fit, large enough for the parser


def inflating(megabytes: int) -> bytes:
    """zlib data inflating to `megabytes` MiB of zeros, made in a second: after a full flush the
    compressor forgets the past, so every further MiB compresses to the same block."""
    chunk = bytes(1 << 20)
    c = zlib.compressobj(9)
    head = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()[:-4]  # the last (empty) block, without the checksum of what this compressor saw
    check = 1
    for _ in range(megabytes):
        check = zlib.adler32(chunk, check)
    return head + block * (megabytes - 1) + end + check.to_bytes(4, "big")


def pdf_with_stream(stream: bytes) -> bytes:
    """One page whose content stream is `stream`, FlateDecode'd."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return bytes(out + b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)


TEXT_PAGE = {"size": (612, 792), "text": [(72, 700, "Notice on annual reports"), (72, 680, "Please submit by 20 November.")]}
SQL_LINES = "\n'); DROP TABLE documents; --\n\" OR 1=1 --\n\x1b[31m红色\x1b[0m\x07\x08\n"


def bad_inbox(box: Path) -> dict[str, tuple[str, str]]:
    """Write the bad files; return {name: (status, a phrase the reason holds)}."""
    pdf = make_pdf([TEXT_PAGE])
    write(box / "empty.pdf", b"")
    write(box / "portal.pdf", "<!DOCTYPE html>\n<html><head><title>404</title></head><body>not found</body></html>")
    write(box / "random.pdf", random.Random(3).randbytes(4096))
    write(box / "truncated.pdf", pdf[: len(pdf) // 2])
    write(box / "encrypted.pdf", make_pdf([TEXT_PAGE], encrypted=True))
    write(box / "5000-pages.pdf", make_pdf([{"size": (200, 200)}] * 5000))
    write(box / "bomb.png", png_header(40_000, 40_000))
    write(box / "inflates-to-2GiB.pdf", pdf_with_stream(inflating(2048)))
    write(box / "nul.txt", notice(50).replace("各县", "各\x00县"))
    write(box / "sql.txt", notice(51, tail=SQL_LINES))
    write(box / "通知 2024 年.txt", notice(52))
    write(box / "two\nlines.txt", notice(53))
    write(box / os.fsdecode(b"bad-\xff\xfe.txt"), notice(54))
    (box / "loop").symlink_to(box)
    (box / "outside.txt").symlink_to(box.parent / "outside-secret.txt")
    write(box.parent / "outside-secret.txt", notice(55))
    os.mkfifo(box / "fifo.pdf")
    nested = make_zip(box.parent / "nested.zip", {"inner.txt": notice(56).encode()}).read_bytes()
    make_zip(box / "archive.zip", {"../../escaped.txt": notice(57).encode(), "nested.zip": nested, "bomb.txt": bytes(20 << 20)})
    return {
        "empty.pdf": ("rejected", "found an empty file"),
        "portal.pdf": ("rejected", "an HTML page with no notice text in it"),
        "random.pdf": ("rejected", "found unrecognised bytes"),
        "truncated.pdf": ("rejected", "PDF"),
        "encrypted.pdf": ("rejected", "the PDF is encrypted and needs a password"),
        "5000-pages.pdf": ("rejected", "5000 pages, over the limit of 500"),
        "bomb.png": ("rejected", "image too large"),
        "inflates-to-2GiB.pdf": ("rejected", "allocate"),
        "nul.txt": ("rejected", "found unrecognised bytes"),
        "sql.txt": ("done", ""),
        "通知 2024 年.txt": ("done", ""),
        "two\nlines.txt": ("done", ""),
        "bad-\\xff\\xfe.txt": ("done", ""),
        "loop": ("rejected", "links inside folders are not followed"),
        "outside.txt": ("rejected", "links inside folders are not followed"),
        "fifo.pdf": ("rejected", "a FIFO (named pipe): not read"),
        "archive.zip!/../../escaped.txt": ("done", ""),
        "archive.zip!/nested.zip": ("rejected", "a ZIP archive"),
        "archive.zip!/bomb.txt": ("rejected", "a decompression bomb?"),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, tuple[str, str]], dict[str, Outcome]]:
    root = tmp_path_factory.mktemp("bad")
    box = root / "inbox"
    expected = bad_inbox(box)
    db = root / "notices.db"
    outcomes = run_batch([box], db, memory_mb=MEMORY_MB, timeout=120)
    return box, db, expected, {name.removeprefix(f"{box}/"): o for name, o in outcomes.items()}


EXPECTED_NAMES = [
    "empty.pdf", "portal.pdf", "random.pdf", "truncated.pdf", "encrypted.pdf", "5000-pages.pdf", "bomb.png",
    "inflates-to-2GiB.pdf", "nul.txt", "sql.txt", "通知 2024 年.txt", "two\nlines.txt", "bad-\\xff\\xfe.txt",
    "loop", "outside.txt", "fifo.pdf", "archive.zip!/../../escaped.txt", "archive.zip!/nested.zip", "archive.zip!/bomb.txt",
]  # fmt: skip


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_bad_input(batch: tuple[Path, Path, dict[str, tuple[str, str]], dict[str, Outcome]], name: str) -> None:
    box, db, expected, outcomes = batch
    status, phrase = expected[name]
    outcome = outcomes[name]
    assert outcome.status == status, outcome.reason
    if status == "rejected":
        assert phrase in (outcome.reason or "") and outcome.name.text in (outcome.reason or "")
        key = outcome.sha256 or hashlib.sha256(outcome.name.raw).hexdigest()  # bytes, or only a name (links, FIFOs)
        note = json.loads((ingest.quarantine_folder(db) / f"{key[:16]}.json").read_text(encoding="utf-8"))
        assert note["reason"] == outcome.reason and outcome.name.text in note["names"]
        if outcome.sha256 and note["copy"]:
            assert (ingest.quarantine_folder(db) / note["copy"]).stat().st_size == note["size"]


def test_every_bad_input_has_its_test(batch: tuple[Path, Path, dict[str, tuple[str, str]], dict[str, Outcome]]) -> None:
    _, _, expected, outcomes = batch
    assert set(outcomes) == set(expected) == set(EXPECTED_NAMES)


def test_nothing_escapes_the_archive_and_sql_is_just_text(batch: tuple[Path, Path, dict[str, tuple[str, str]], dict[str, Outcome]]) -> None:
    box, db, _, outcomes = batch
    assert not (box.parent / "escaped.txt").exists() and not (box.parent.parent / "escaped.txt").exists()
    conn = store.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [page] = store.stored_pages(conn, outcomes["sql.txt"].sha256 or "")
        assert "'); DROP TABLE documents; --" in page.raw_text and "\x1b[31m红色" in page.raw_text
        assert [hit["id"] for hit in store.search(conn, "DROP TABLE documents")] == outcomes["sql.txt"].documents
        stored = [o for o in outcomes.values() if o.status in store.STORED]
        assert conn.execute("SELECT count(*) FROM files WHERE status != 'rejected'").fetchone()[0] == len(stored)
    finally:
        conn.close()


# --- a reader that crashes, hangs, balloons or has a bug (fault injection in the worker) --------

FAULTS = '''
import os, signal, time
import pipeline.reading.read as read

_read_file = read.read_file


def faulty(path, **kwargs):
    name = open(path, "rb").read(64)
    if b"SEGFAULT" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"HANG" in name:
        time.sleep(3600)
    if b"BALLOON" in name:
        return bytearray(3 << 30)  # 3 GiB: fine without a memory cap, a MemoryError under it
    if b"BUG" in name:
        return 1 / 0
    return _read_file(path, **kwargs)


read.read_file = faulty
'''


def test_crash_hang_balloon_and_bug_are_rejected_and_the_batch_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the workers import sitecustomize at start-up: it swaps the reading stage for a faulty one
    write(tmp_path / "faults" / "sitecustomize.py", FAULTS)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "faults"))
    box = tmp_path / "inbox"
    for n, fault in enumerate(("SEGFAULT", "HANG", "BALLOON", "BUG"), start=1):
        write(box / f"{n}-{fault.lower()}.txt", f"{fault}\n" + notice(60 + n))
    write(box / "5-fine.txt", notice(65))
    outcomes = {k.removeprefix(f"{box}/"): v for k, v in run_batch([box], tmp_path / "notices.db", workers=1, timeout=8, memory_mb=MEMORY_MB).items()}
    assert {k: v.status for k, v in outcomes.items()} == {
        "1-segfault.txt": "rejected",
        "2-hang.txt": "rejected",
        "3-balloon.txt": "rejected",
        "4-bug.txt": "rejected",
        "5-fine.txt": "done",
    }
    assert "crashed the reader (killed by SIGSEGV" in (outcomes["1-segfault.txt"].reason or "")
    assert "took longer than 8 s" in (outcomes["2-hang.txt"].reason or "")
    assert f"needed more than the {MEMORY_MB} MB a worker may use" in (outcomes["3-balloon.txt"].reason or "")
    assert "ZeroDivisionError" in (outcomes["4-bug.txt"].reason or "") and "please report it" in (outcomes["4-bug.txt"].reason or "")


# --- tesseract missing, crashing, hanging, printing garbage (fake binaries on PATH) ---------------


def blank_ish_page(path: Path) -> Path:
    im = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(im).rectangle((50, 50, 350, 80), fill="black")
    im.save(path, dpi=(150, 150))
    return path


def fake_tesseract_on_path(folder: Path, action: str, monkeypatch: pytest.MonkeyPatch) -> None:
    script = write(folder / "tesseract", FAKE.format(langs="chi_sim\neng\nosd", action=action))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


# what the fake prints for any page: SQL, a NUL, terminal escapes and a bell in OCR text
HOSTILE_TXT = "临汾市民政局\n'); DROP TABLE pages; --\x00\x1b[2J\x07\n"
HOSTILE_TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "5\t1\t1\t1\t1\t1\t10\t10\t100\t20\t91\t临汾市民政局\n"
    "5\t1\t1\t1\t2\t1\t10\t40\t100\t20\t88\t'); DROP TABLE pages; --\x00\x1b[2J\x07\n"
)

# case: (what the fake does, the statuses it may end in, a phrase of the reason or of the stored page)
TESSERACT_CASES = {
    "missing": (None, ("deferred",), "the OCR program 'tesseract' is not installed"),
    "crash": ('echo "Segmentation fault" >&2; exit 139', ("deferred",), "the OCR engine failed on every page: tesseract failed with exit code 139"),
    "hang": ("sleep 30", ("rejected",), "took longer than 6 s"),
    "garbage": ("printf 'ok\\377\\376 line\\n' > \"$out.txt\"; printf 'level\\tbroken\\n5\\t1\\n' > \"$out.tsv\"", store.STORED, "not UTF-8"),
    "sql-nul-control": ('cat "$0.txt" > "$out.txt"; cat "$0.tsv" > "$out.tsv"', store.STORED, "'); DROP TABLE pages; --\x00\x1b[2J\x07"),
}


@pytest.mark.parametrize("case", TESSERACT_CASES)
def test_fake_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    action, statuses, phrase = TESSERACT_CASES[case]
    fakes = tmp_path / "bin"
    if action is None:
        fakes.mkdir()
        monkeypatch.setenv("PATH", str(fakes))  # no tesseract anywhere; the worker runs sys.executable
    else:
        fake_tesseract_on_path(fakes, action, monkeypatch)
        write(fakes / "tesseract.txt", HOSTILE_TXT)
        write(fakes / "tesseract.tsv", HOSTILE_TSV)
    page = blank_ish_page(tmp_path / "scan.png")
    db = tmp_path / "notices.db"
    [outcome] = run_batch([page], db, engine="tesseract", workers=1, timeout=6).values()
    assert outcome.status in statuses, outcome.reason
    if outcome.status in ("deferred", "rejected"):
        assert (outcome.reason or "").startswith(f"{page}: ") and phrase in (outcome.reason or "")
    if outcome.status == "deferred":
        assert outcome.exit_code in (ExitCode.missing_dependency, ExitCode.engine)
        conn = store.connect(db)
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0  # nothing recorded: a rerun picks it up
        conn.close()
    if case == "hang":
        assert not leftover_processes(str(fakes)), "the hung tesseract outlived its worker"
    if outcome.status in store.STORED:  # read as well as the output allows: the page keeps it, warts and all
        conn = store.connect(db)
        [stored] = store.stored_pages(conn, outcome.sha256 or "")
        assert phrase in stored.raw_text + " ".join(stored.warnings)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def leftover_processes(marker: str) -> list[int]:
    """Processes whose command line mentions `marker` (the fake tesseract's folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


# --- awkward images, read by the real tesseract ----------------------------------------------------


def save(image: Image.Image, path: Path, **params: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **params)
    return path


def image_inbox(box: Path, render_page: RenderPage) -> dict[str, Callable[[Outcome, list[str]], bool]]:
    """Awkward images; for each, a check on its outcome and its stored pages' raw text."""
    page = Image.fromarray(render_page(red_header="临汾市民政局文件"))
    white = Image.new("RGB", page.size, "white")
    seal = white.copy()
    draw = ImageDraw.Draw(seal)
    draw.ellipse((500, 200, 900, 600), outline=(220, 20, 30), width=18)
    draw.regular_polygon((700, 400, 90), 5, fill=(220, 20, 30))
    save(Image.new("RGB", (1, 1), "white"), box / "1x1.png")
    save(page.convert("CMYK"), box / "cmyk.jpg", quality=90, dpi=(300, 300))
    deep = (np.asarray(page.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    save(Image.fromarray(deep), box / "16-bit.tif", dpi=(300, 300))
    save(page, box / "three-frames.tif", save_all=True, append_images=[white, page.rotate(180)], dpi=(300, 300))
    save(white, box / "blank.png", dpi=(300, 300))
    save(seal, box / "seal-only.png", dpi=(300, 300))
    save(page.rotate(180), box / "pixels-180.png", dpi=(300, 300))
    sideways = page.rotate(90, expand=True)
    write(box / "pixels-90.pdf", make_pdf([scan_page(jpeg_bytes(sideways, 300), sideways.size, (sideways.width * 72 / 300, sideways.height * 72 / 300))]))
    upright = jpeg_bytes(page, 300)
    write(box / "rotate-90.pdf", make_pdf([scan_page(upright, page.size, (page.width * 72 / 300, page.height * 72 / 300), rotate=90)]))

    def reads(text: str) -> Callable[[Outcome, list[str]], bool]:
        return lambda o, pages: o.status in store.STORED and any(text in p.replace(" ", "") for p in pages)

    def flagged(reason: str) -> Callable[[Outcome, list[str]], bool]:
        return lambda o, pages: o.status == "needs_review" and reason in (o.reason or "")

    return {
        # pipeline.reading.read's red-header pass trips over a page under 2 px tall (cv2.dilate on an empty
        # array): the worker reports it as a bug and the batch goes on; once read.py guards tiny
        # pages it is a page with nothing on it
        "1x1.png": lambda o, pages: flagged("no notice found")(o, pages) or (o.status == "rejected" and "please report it" in (o.reason or "")),
        "cmyk.jpg": reads("民政局"),
        "16-bit.tif": reads("民政局"),
        "three-frames.tif": lambda o, pages: len(pages) == 3 and "民政局" in pages[2].replace(" ", "") and "blank on page 2" in (o.reason or ""),
        "blank.png": flagged("blank on page 1"),
        "seal-only.png": flagged("no notice found"),
        "pixels-180.png": reads("民政局"),
        "pixels-90.pdf": reads("民政局"),
        "rotate-90.pdf": reads("民政局"),
    }


@pytest.mark.live
def test_awkward_images(tmp_path: Path, render_page: RenderPage) -> None:
    box = tmp_path / "inbox"
    checks = image_inbox(box, render_page)
    db = tmp_path / "notices.db"
    outcomes = {k.removeprefix(f"{box}/"): v for k, v in run_batch([box], db, engine="tesseract").items()}
    conn = store.connect(db)
    try:
        failures = {}
        for name, check in checks.items():
            outcome = outcomes[name]
            pages = [p.raw_text for p in store.stored_pages(conn, outcome.sha256 or "")]
            if not check(outcome, pages):
                failures[name] = (outcome.status, outcome.reason, [p[:60] for p in pages])
        assert not failures
    finally:
        conn.close()

