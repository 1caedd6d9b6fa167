"""pipeline.ingest: walking inputs, zip members, statuses, quarantine, the batch invariant, reparse.

Batches here run the real worker processes on small text notices (no OCR), so they take a few
seconds each. Helpers at the top are shared with the other ingest tests.
"""

import io
import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipeline.cli.store  # noqa: F401  registers the store commands on the app
from models import FileResult, Issue, Page
from pipeline import ingest
from pipeline import store
from pipeline.cli.main import app
from pipeline.errors import ExitCode, InputTooLarge
from pipeline.run import PARSER_VERSION
from pipeline.ingest import Input, Options, Outcome, Summary
from pipeline.ingest import batch as batch_loop
from pipeline.ingest import inputs as inputs_module
from pipeline.ingest.inputs import extract_member
from pipeline.ingest.workers import Failure, Parsed, page_texts
from pipeline.store import Name, Verdict

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
CITY_NOTICE = "".join(SEED.read_text(encoding="utf-8").splitlines(keepends=True)[:36])  # the city notice without its attachment


def notice(n: int, *, tail: str = "") -> str:
    """A distinct one-document notice: its own 文号 (临市民函〔2024〕N号) and title."""
    return CITY_NOTICE.replace("〔2024〕89号", f"〔2024〕{n}号").replace("重要回信精神的通知", f"重要回信精神的第{n}号通知") + tail


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def run_batch(paths: Sequence[Path], db: Path, **options: object) -> dict[str, Outcome]:
    """One batch in this process (workers are real processes): outcomes by name, invariant checked."""
    conn = store.connect(db)
    try:
        inputs = ingest.collect(paths, skip=[db, ingest.quarantine_folder(db)])
        # two workers unless told otherwise: same bytes can then be in flight twice (the twins path)
        opts = Options(quarantine=ingest.quarantine_folder(db), **{"workers": 2, **options})  # type: ignore[arg-type]
        outcomes = ingest.ingest(inputs, conn, opts)
    finally:
        conn.close()
    summary = Summary.of(len(inputs), outcomes)
    assert summary.balanced, summary
    assert len({o.name.raw for o in outcomes}) == len(outcomes) == len(inputs)
    return {o.name.text: o for o in outcomes}


def names(inputs: list[Input]) -> list[str]:
    return [i.name.text for i in inputs]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "notices.db"


# --- walking ------------------------------------------------------------------------------------


def test_folders_are_walked_in_name_order_skipping_the_database(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for name in ("b.txt", "a.txt", "sub/c.txt", "sub/deeper/d.txt"):
        write(inbox / name, "x")
    db = write(inbox / "notices.db", b"")
    inputs = ingest.collect([inbox], skip=[db])
    assert names(inputs) == [f"{inbox}/a.txt", f"{inbox}/b.txt", f"{inbox}/sub/c.txt", f"{inbox}/sub/deeper/d.txt"]
    assert all(i.path is not None and i.refusal is None for i in inputs)


def test_links_inside_folders_are_not_followed_but_named_ones_are(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    outside = write(tmp_path / "secret" / "passwd.txt", "not for the inbox")
    write(inbox / "real.txt", "x")
    (inbox / "loop").symlink_to(inbox)
    (inbox / "out.txt").symlink_to(outside)
    (inbox / "self").symlink_to(inbox / "self")
    found = {i.name.text.rsplit("/", 1)[-1]: i for i in ingest.collect([inbox])}
    assert set(found) == {"real.txt", "loop", "out.txt", "self"}
    assert "links inside folders are not followed" in (found["out.txt"].refusal or "")
    assert f"to {outside}" in (found["out.txt"].refusal or "")
    assert found["loop"].path is None and found["self"].path is None
    [named] = ingest.collect([inbox / "out.txt"])  # named on the command line: followed, as find -H
    assert named.refusal is None and named.path == inbox / "out.txt"


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.pdf")
    [fifo] = ingest.collect([tmp_path])
    assert fifo.path is None and "FIFO" in (fifo.refusal or "")


def test_missing_paths_are_inputs_with_a_reason(tmp_path: Path) -> None:
    [missing] = ingest.collect([tmp_path / "nope.pdf"])
    assert missing.refusal == "cannot read: No such file or directory"


def test_odd_file_names(tmp_path: Path) -> None:
    odd = [b"\xe9\x80\x9a\xe7\x9f\xa5 (1).txt", b"two\nlines.txt", b"bad-\xff\xfe.txt", b" leading space.txt"]
    for raw in odd:
        write(tmp_path / os.fsdecode(raw), "x")
    inputs = ingest.collect([tmp_path])
    assert sorted(i.name.raw.rsplit(b"/", 1)[-1] for i in inputs) == sorted(odd)
    texts = [i.name.text.rsplit("/", 1)[-1] for i in inputs]
    assert "通知 (1).txt" in texts and "two\nlines.txt" in texts and r"bad-\xff\xfe.txt" in texts
    json.dumps(texts, ensure_ascii=False).encode("utf-8")  # every name fits in a JSON line


# --- zip archives -------------------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(member_info(name), data)
    return path


def member_info(name: str, **attrs: object) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=(2024, 10, 25, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    for key, value in attrs.items():
        setattr(zi, key, value)
    return zi


def test_zip_members_are_inputs_named_after_the_archive(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "inbox.zip", {"a.txt": b"1", "../../escape.txt": b"2", "/abs/path.txt": b"3", "dir/": b""})
    inputs = ingest.collect([archive])
    assert names(inputs) == [f"{archive}!/a.txt", f"{archive}!/../../escape.txt", f"{archive}!//abs/path.txt"]  # as the archive names them: display only
    assert all(i.member and i.refusal is None for i in inputs)


def test_gbk_member_names_from_windows_are_decoded(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("placeholder.txt", b"x")
    raw = "通知.txt".encode("gbk")
    # rewrite the member name as Chinese Windows packers write it: GBK bytes, no UTF-8 flag
    data = buf.getvalue().replace(b"placeholder.txt", raw + b" " * (len("placeholder.txt") - len(raw)))
    archive = write(tmp_path / "windows.zip", data)
    [member] = ingest.collect([archive])
    assert member.name.text == f"{archive}!/通知.txt" + " " * (len("placeholder.txt") - len(raw))


def test_a_link_member_is_refused_before_unpacking(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member_info("link.txt", external_attr=(0o120777 << 16)), b"/etc/passwd")
    [link] = ingest.collect([archive])
    assert link.refusal == "a symbolic link inside the archive: not followed"


def test_an_encrypted_member_is_refused_before_unpacking(tmp_path: Path) -> None:
    data = bytearray(make_zip(tmp_path / "plain.zip", {"locked.txt": b"secret"}).read_bytes())
    # zipfile cannot encrypt: set the "encrypted" flag bit in the local and the central header
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1
    [locked] = ingest.collect([write(tmp_path / "locked.zip", bytes(data))])
    assert locked.refusal == "an encrypted zip member: it needs a password"


@pytest.mark.parametrize(
    ("members", "refusal"),
    [
        ({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}, "an Office document that is not a Word document"),
        ({}, "an empty zip archive"),
        ({f"{n}.txt": b"x" for n in range(4)}, "a zip archive of 4 members, over the limit of 3"),
    ],
)
def test_archives_refused_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: dict[str, bytes], refusal: str) -> None:
    monkeypatch.setattr(inputs_module, "MAX_MEMBERS", 3)
    archive = make_zip(tmp_path / "x.zip", members)
    [whole] = ingest.collect([archive])
    assert whole.path == archive and whole.member is None and (whole.refusal or "").startswith(refusal)


def test_a_damaged_zip_is_refused(tmp_path: Path) -> None:
    data = make_zip(tmp_path / "ok.zip", {"a.txt": b"x" * 1000}).read_bytes()
    [cut] = ingest.collect([write(tmp_path / "cut.zip", data[:40])])
    assert "a damaged zip archive" in (cut.refusal or "")


def test_a_zip_bomb_member_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.txt": bytes(20 << 20), "fine.txt": b"fine"})
    bomb, fine = ingest.collect([archive])
    with zipfile.ZipFile(archive) as z:
        with pytest.raises(InputTooLarge, match=r"bomb.zip!/bomb.txt: unpacks past 2,038,700 bytes from 20,387 \(a decompression bomb\?\)"):
            extract_member(z, bomb, tmp_path / "out")
        extract_member(z, fine, tmp_path / "fine")
    assert (tmp_path / "fine").read_bytes() == b"fine"


# --- statuses -----------------------------------------------------------------------------------


def parsed(pages: int = 2, problems: Sequence[Issue] = (), documents: bool = True, broken: str | None = None) -> Parsed:
    from models import Document

    docs = [Document(title="关于的通知", doc_number="晋民函〔2024〕169号")] if documents else []
    result = FileResult(file="x", kind="pdf", parser_version="0", documents=docs, problems=list(problems))
    return Parsed(result, [Page(number=n, source="ocr") for n in range(1, pages + 1)], [], [], broken)


def unreadable(page: int) -> Issue:
    return Issue(code="page.unreadable", message=f"page {page}: tesseract failed", severity="error", page=page)


def test_assess() -> None:
    assert batch_loop.assess(parsed()) == Verdict("done")
    assert batch_loop.assess(parsed(problems=[unreadable(2)])) == Verdict("partial", "1 of 2 pages unreadable (page 2)")
    assert batch_loop.assess(parsed(documents=False)) == Verdict("needs_review", "no notice found: no 文号 and no title")
    low = Issue(code="page.low_confidence", message="page 1: mean OCR confidence 41", page=1)
    blank = Issue(code="page.blank", message="page 2: no text found", severity="info", page=2)
    assert batch_loop.assess(parsed(problems=[low, blank])) == Verdict("needs_review", "low OCR confidence on page 1; blank on page 2")
    everything = [unreadable(1), unreadable(2)]
    assert batch_loop.assess(parsed(problems=everything)) == Failure("rejected", "no page could be read: page 1: tesseract failed")
    deferred = batch_loop.assess(parsed(problems=everything, broken="tesseract failed with exit code 139"))
    assert isinstance(deferred, Failure) and deferred.status == "deferred" and deferred.exit_code == ExitCode.engine


def test_summary_is_the_batch_invariant() -> None:
    outcomes = [Outcome(Name.of(str(n)), status) for n, status in enumerate(["done", "partial", "needs_review", "duplicate", "rejected", "deferred", "done"])]
    summary = Summary.of(7, outcomes)
    assert summary.balanced
    assert str(summary) == "7 inputs = 4 stored (2 done, 1 partial, 1 needs_review) + 1 duplicates + 1 rejected + 1 deferred"
    assert not Summary.of(8, outcomes).balanced  # an input without an outcome
    assert not Summary.of(8, outcomes + [Outcome(Name.of("x"), "lost")]).balanced


def test_page_texts_cut_a_reflowed_paragraph_back_at_the_page_break(tmp_path: Path) -> None:
    from pipeline.text.normalise import normalise
    from pipeline.reading.read import read_file

    read = read_file(write(tmp_path / "two-pages.txt", notice(7).replace("充分调动老年人参与志愿", "充分调动老年人参与志愿\f")))
    text = normalise(read.pages)
    first, second = page_texts(text, read.pages)
    assert first.endswith("充分调动老年人参与志愿") and second.startswith("服务的积极性和主动性")
    assert "".join((first + second).split()) == "".join(text.text.split())


def test_safe_filename() -> None:
    assert batch_loop.safe_filename("inbox/sub/通知 (1).pdf") == "通知_1_.pdf"
    assert batch_loop.safe_filename("a.zip!/../../.bashrc") == "bashrc"
    assert batch_loop.safe_filename("two\nlines") == "two_lines"
    assert batch_loop.safe_filename("///") == "file"


# --- batches ------------------------------------------------------------------------------------


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    for n in (1, 2, 3):
        write(box / f"notice-{n}.txt", notice(n))
    write(box / "copies" / "notice-1 副本.txt", notice(1))  # the same bytes under another name
    write(box / "rescan-1.txt", notice(1, tail="\n（此件公开发布）\n"))  # another read of notice 1
    write(box / "portal-error.pdf", "<!DOCTYPE html><html><body>404</body></html>")
    make_zip(box / "batch.zip", {"../../outside.txt": notice(4).encode(), "again.txt": notice(2).encode()})
    return box


def test_a_batch_stores_each_notice_once(inbox: Path, db: Path, tmp_path: Path) -> None:
    first = run_batch([inbox], db)
    by_name = {k.removeprefix(f"{inbox}/"): v for k, v in first.items()}
    status = {k: v.status for k, v in by_name.items()}
    # walked in name order: the zip's members come first, so notice-2.txt repeats batch.zip!/again.txt
    assert status["batch.zip!/../../outside.txt"] == status["batch.zip!/again.txt"] == status["notice-3.txt"] == "done"
    assert status["notice-2.txt"] == status["notice-1.txt"] == "duplicate"
    assert by_name["notice-1.txt"].documents == by_name["copies/notice-1 副本.txt"].documents
    # two reads of notice 1 from different bytes: whichever is stored second is flagged when stored
    assert {status["copies/notice-1 副本.txt"], status["rescan-1.txt"]} == {"done", "needs_review"}
    flagged = [v for v in by_name.values() if v.status == "needs_review"]
    assert [v.reason for v in flagged] == [f"possible duplicate: 临市民函〔2024〕1号 also in {inbox}/copies/notice-1 副本.txt"] or (
        [v.reason for v in flagged] == [f"possible duplicate: 临市民函〔2024〕1号 also in {inbox}/rescan-1.txt"]
    )
    assert "an HTML page with no notice text in it" in (by_name["portal-error.pdf"].reason or "")
    assert not (tmp_path / "outside.txt").exists() and not (inbox.parent.parent / "outside.txt").exists()

    conn = store.connect(db)
    for name in ("notice-1.txt", "rescan-1.txt"):  # both reads are flagged in the store, whatever the order
        assert store.find_file(conn, by_name[name].sha256 or "").status == "needs_review"  # type: ignore[union-attr]
    assert len(store.file_names(conn, by_name["notice-1.txt"].sha256 or "")) == 2
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "documents", "possible_duplicates")}
    conn.close()
    assert counts == {"files": 6, "documents": 5, "possible_duplicates": 1}

    quarantine = ingest.quarantine_folder(db)
    [note] = [json.loads(p.read_text()) for p in quarantine.glob("*.json")]
    assert note["file"] == f"{inbox}/portal-error.pdf" and "HTML" in note["reason"]
    assert (quarantine / note["copy"]).read_bytes() == (inbox / "portal-error.pdf").read_bytes()

    again = run_batch([inbox], db)  # nothing new: no worker is even started
    assert {o.status for o in again.values()} == {"duplicate", "rejected"}
    assert again[f"{inbox}/portal-error.pdf"].reason.startswith("rejected before: ")  # type: ignore[union-attr]


def test_store_failure_defers_the_rest_and_a_rerun_picks_it_up(inbox: Path, db: Path) -> None:
    run_batch([inbox / "notice-1.txt"], db)
    conn = store.connect(db)
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    inputs = ingest.collect([inbox / "notice-2.txt", inbox / "notice-3.txt", inbox / "rescan-1.txt"])
    outcomes = ingest.ingest(inputs, conn, Options(quarantine=ingest.quarantine_folder(db), workers=1))
    conn.close()
    assert [o.status for o in outcomes] == ["deferred"] * 3
    assert "full" in (outcomes[0].reason or "") and outcomes[0].exit_code == ExitCode.store
    assert all("not tried: the store failed earlier" in (o.reason or "") for o in outcomes[1:])
    rerun = run_batch([inbox / "notice-1.txt", inbox / "notice-2.txt", inbox / "notice-3.txt"], db)  # a new connection: no cap
    assert [o.status for o in rerun.values()] == ["duplicate", "done", "done"]


def test_a_quarantine_that_cannot_be_written_defers(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch_loop.shutil, "copyfile", full)
    damaged = write(tmp_path / "cut.zip", b"PK\x03\x04" + b"\x00" * 30)  # refused in the parent: no worker
    [outcome] = run_batch([damaged], db).values()
    assert outcome.status == "deferred" and "No space left on device" in (outcome.reason or "")
    conn = store.connect(db)
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0  # nothing recorded
    conn.close()


def test_reparse_restores_records_and_the_parser_version(inbox: Path, db: Path) -> None:
    [done] = run_batch([inbox / "notice-1.txt"], db).values()
    conn = store.connect(db)
    before = conn.execute("SELECT record FROM documents").fetchall()
    conn.execute("UPDATE documents SET parser_version = '0.0.1', title = 'old'")
    conn.execute("DELETE FROM deadlines")
    [again] = ingest.reparse(conn, None)
    assert again.documents == done.documents and again.status == done.status
    assert conn.execute("SELECT record FROM documents").fetchall() == before
    assert conn.execute("SELECT DISTINCT parser_version FROM documents").fetchall() == [(PARSER_VERSION,)]
    assert conn.execute("SELECT count(*) FROM deadlines").fetchone()[0] > 0
    conn.close()


# --- the command --------------------------------------------------------------------------------


def test_cli_ingest_prints_lines_and_the_summary_and_reads_gongwen_db(inbox: Path, db: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(inbox / "notice-1.txt"), str(inbox / "portal-error.pdf"), "--workers", "1"], env={"GONGWEN_DB": str(db)})
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["status"] for line in lines) == ["done", "rejected"]
    assert set(lines[0]) == {"file", "status", "reason", "documents"}
    assert "ingest: 2 inputs = 1 stored (1 done) + 0 duplicates + 1 rejected + 0 deferred" in result.stderr
    listed = runner.invoke(app, ["list", "--db", str(db)])
    assert [d["doc_number"] for d in json.loads(listed.stdout)] == ["临市民函〔2024〕1号"]
    shown = runner.invoke(app, ["show", "临市民函〔2024〕1号", "--db", str(db), "--table"])
    assert shown.exit_code == 0 and "临汾市民政局" in shown.stdout
    found = runner.invoke(app, ["search", "银龄行动", "--db", str(db)])
    assert len(json.loads(found.stdout)) == 1
    missing = runner.invoke(app, ["show", "晋民函〔2099〕1号", "--db", str(db)])
    assert missing.exit_code == ExitCode.error and "no stored document" in missing.stderr


def test_cli_reparse_needs_ids_or_all(db: Path) -> None:
    store.connect(db).close()
    result = CliRunner().invoke(app, ["reparse", "--db", str(db)])
    assert result.exit_code == ExitCode.usage


def test_cli_look_ups_refuse_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["list", "--db", str(tmp_path / "typo.db")])
    assert result.exit_code == ExitCode.store and "no such database" in result.stderr
    assert not (tmp_path / "typo.db").exists()
