"""What a batch reads: paths in, Inputs out (files, zip members, and what cannot be read).

    collect(paths, skip=) -> list[Input]       files, folders, zip members, mail attachments, refusals
    inputs_at(path, name, top=, skipped=)      the inputs under one path
    extract_member(archive, item, dest)        a zip member's bytes, under the caps
    hash_file(path, name) -> (sha256, size)    a file's identity, refusing one over MAX_FILE_BYTES

Walking: folders recursively in name order, never following a symbolic link inside them;
only regular files are read (a FIFO would block the reader forever). Paths named on the
command line are followed if they are links, as `find -H` does. A zip archive is read
member by member, under caps on member count, size and compression ratio, through a
temporary file we name: nothing is ever written to a path taken from the archive.
A .docx or an OFD is a zip too, and is one input. An e-mail is opened here: each attachment
(and a body holding a notice) is written to a file we name and becomes an input carrying the
mail's routing record; a zip attachment is read member by member as a zip file is.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from models.document import Routing
from pipeline.errors import InputError, InputTooLarge
from pipeline.reading.sniff import MAIL_KINDS
from pipeline.store import Name

MAX_FILE_BYTES = 1 << 30  # a 500-page scan at 1 MB a page fits twice
MAX_MEMBERS = 10_000  # zip members: more is not a folder of notices
MAX_ARCHIVE_BYTES = 4 << 30  # all members of one zip, as declared
MAX_RATIO = 100  # scans barely compress (JPEG inside); text does 3-10x; a bomb does 1000x+
RATIO_FREE_BYTES = 1 << 20  # members smaller than this may compress as well as they like
OFFICE_MEMBERS = ("[Content_Types].xml", "mimetype")  # docx/xlsx/pptx and odt/ods mark themselves so


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One thing to ingest: a file, a zip member (`member` of the archive at `path`), or something
    refused before reading (`refusal`; `path` is None when there are no bytes to keep)."""

    name: Name
    path: Path | None = None
    member: str | None = None
    refusal: str | None = None
    routing: Routing | None = None  # the e-mail it came in


def collect(paths: Sequence[Path], *, skip: Collection[Path] = ()) -> list[Input]:
    """Every input under `paths`, in order. `skip` (the database, its WAL, the quarantine) is
    left out wherever it turns up, so that `gongwen ingest .` does not read its own output."""
    skipped = {identity(p) for p in skip if p.exists()}
    out: list[Input] = []
    for path in paths:
        out += inputs_at(path, Name.of(str(path)), top=True, skipped=skipped)
    return out


def identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def inputs_at(path: Path, name: Name, *, top: bool, skipped: set[tuple[int, int]]) -> list[Input]:
    try:
        st = os.stat(path) if top else os.lstat(path)
    except OSError as e:
        return [Input(name, refusal=f"cannot read: {e.strerror or e}")]
    if (st.st_dev, st.st_ino) in skipped:
        return []
    if stat.S_ISDIR(st.st_mode):
        return folder_inputs(path, name, skipped)
    if stat.S_ISLNK(st.st_mode):
        return [Input(name, refusal=f"a symbolic link (to {link_target(path)}): links inside folders are not followed")]
    if not stat.S_ISREG(st.st_mode):
        return [Input(name, refusal=f"not a regular file but {file_type(st.st_mode)}: not read")]
    kind = readable_kind(path)
    if kind in MAIL_KINDS:
        return mail_inputs(path, name, kind)
    if kind is None and is_zip(path):
        return archive_inputs(path, name)
    return [Input(name, path)]


def readable_kind(path: Path) -> str | None:
    """The kind the reader will find, for the kinds a batch opens itself (mail, and zips that are
    documents: a .docx or an OFD is one input, not an archive); errors are the reader's to report."""
    from pipeline.reading.sniff import sniff

    try:
        return sniff(path)
    except InputError:
        return None


def folder_inputs(path: Path, name: Name, skipped: set[tuple[int, int]]) -> list[Input]:
    try:
        with os.scandir(path) as entries:
            children = sorted(entries, key=lambda e: os.fsencode(e.name))
    except OSError as e:
        return [Input(name, refusal=f"cannot list the folder: {e.strerror or e}")]
    out: list[Input] = []
    for entry in children:
        child = path / entry.name
        out += inputs_at(child, Name.of(str(child)), top=False, skipped=skipped)
    return out


def link_target(path: Path) -> str:
    try:
        return Name.of(os.readlink(path)).text
    except OSError:
        return "?"


def file_type(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((label for test, label in kinds if test(mode)), f"mode {oct(mode)}")


def open_regular(path: Path) -> int:
    """A read-only descriptor on a regular file. O_NONBLOCK: a FIFO swapped in since the walk
    must not block the batch; it is refused by the fstat check instead."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{path}: not a regular file")
    return fd


def is_zip(path: Path) -> bool:
    try:
        fd = open_regular(path)
    except (OSError, InputError):
        return False  # the hash step reports the error with the file's name
    try:
        return os.read(fd, 4) in (b"PK\x03\x04", b"PK\x05\x06")
    finally:
        os.close(fd)


# --- e-mail -------------------------------------------------------------------------------------


@cache
def mail_scratch() -> Path:
    """Where a batch process keeps the parts of the mails it opened, until it ends
    (`release_mail_parts` empties it sooner, for a long-running watch)."""
    folder = Path(tempfile.mkdtemp(prefix="gongwen-mail-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def release_mail_parts() -> None:
    for child in mail_scratch().iterdir():
        shutil.rmtree(child, ignore_errors=True)


def mail_inputs(path: Path, name: Name, kind: str) -> list[Input]:
    """One input per attachment (a zip attachment: one per member) and per body that holds a
    notice, each with the mail's routing; the parts are written under names we choose."""
    from pipeline.reading.mail import mail_parts

    try:
        parts = mail_parts(path, kind)
    except InputError as e:
        return [Input(name, path, refusal=e.message.replace(str(path), name.text))]
    if not parts:
        return [Input(name, path, refusal="an e-mail with no attachment and no notice in its body")]
    folder = Path(tempfile.mkdtemp(dir=mail_scratch()))
    out: list[Input] = []
    for n, part in enumerate(parts, start=1):
        file = folder / f"part-{n:04d}"
        file.write_bytes(part.data)
        part_name = Name(f"{name.text}!/{part.name}", name.raw + b"!/" + part.name.encode("utf-8", "replace"))
        inputs = [Input(part_name, file, refusal=part.refusal)]
        if not part.refusal and readable_kind(file) is None and is_zip(file):
            inputs = archive_inputs(file, part_name)
        for item in inputs:
            routing = part.routing
            if routing.attachment:  # a zip member's routing names it inside the zip: 附件.zip!/通知.ofd
                routing = routing.model_copy(update={"attachment": item.name.text.removeprefix(f"{name.text}!/")})
            out.append(replace(item, routing=routing))
    return out


# --- zip archives ---------------------------------------------------------------------------------


def archive_inputs(path: Path, name: Name) -> list[Input]:
    """One input per member, or one refusal for the archive as a whole."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        return [Input(name, path, refusal=f"a damaged zip archive: {e}")]
    names = {info.filename for info in members}
    refusal = None
    if any(marker in names for marker in OFFICE_MEMBERS):
        refusal = "an Office document that is not a Word document (a spreadsheet, slides, OpenDocument): export it to PDF first"
    elif not members:
        refusal = "an empty zip archive"
    elif len(members) > MAX_MEMBERS:
        refusal = f"a zip archive of {len(members):,} members, over the limit of {MAX_MEMBERS:,}"
    elif sum(info.file_size for info in members) > MAX_ARCHIVE_BYTES:
        refusal = f"a zip archive that unpacks to over {MAX_ARCHIVE_BYTES >> 30} GiB"
    if refusal:
        return [Input(name, path, refusal=refusal)]
    return [Input(member_name(name, info), path, member=info.filename, refusal=member_refusal(info)) for info in members]


def member_name(archive: Name, info: zipfile.ZipInfo) -> Name:
    """`archive.zip!/member`. Without the UTF-8 flag, zip names are bytes in the packer's code
    page: Chinese Windows writes GBK, which zipfile has decoded as cp437."""
    if info.flag_bits & 0x800:
        raw = info.filename.encode("utf-8")
        text = info.filename
    else:
        raw = info.filename.encode("cp437", "replace")
        text = next((decoded for codec in ("utf-8", "gbk") if (decoded := plausible_name(raw, codec))), info.filename)
    return Name(f"{archive.text}!/{text}", archive.raw + b"!/" + raw)


def plausible_name(raw: bytes, codec: str) -> str | None:
    """`raw` decoded, if that gives ASCII and East Asian text only. GBK bytes often decode as
    UTF-8 too, into combining marks and Hebrew (通知 → ֪ͨ); macOS writes UTF-8 without the flag."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if all(" " <= ch <= "~" or ch >= "\u2e80" for ch in text) else None


def member_refusal(info: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link inside the archive: not followed"
    if info.flag_bits & 0x1:
        return "an encrypted zip member: it needs a password"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return f"a zip member packed with unsupported method {info.compress_type}"
    return None


def member_limit(info: zipfile.ZipInfo) -> int:
    """Bytes a member may unpack to: its declared size is not trusted, the ratio cap is."""
    return min(MAX_FILE_BYTES, max(RATIO_FREE_BYTES, info.compress_size * MAX_RATIO))


def extract_member(archive: zipfile.ZipFile, item: Input, dest: Path) -> None:
    """The member's bytes into `dest` (a name we chose), stopping at the size and ratio caps."""
    assert item.member is not None
    info = archive.getinfo(item.member)
    limit = member_limit(info)
    copied = 0
    try:
        with archive.open(info) as src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise InputTooLarge(
                        f"{item.name.text}: unpacks past {limit:,} bytes from {info.compress_size:,} "
                        f"(a decompression bomb?); the cap is {MAX_RATIO}x its packed size, {MAX_FILE_BYTES >> 20} MiB at most"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise InputError(f"{item.name.text}: a damaged zip member: {e}") from e


def open_archive(path: Path, cache: dict[Path, zipfile.ZipFile]) -> zipfile.ZipFile:
    """The archive stays open while its members are read: a 10,000-member zip would otherwise
    read its central directory 10,000 times. Opening another closes it."""
    if path not in cache:
        close_archives(cache)
        cache[path] = zipfile.ZipFile(path)
    return cache[path]


def close_archives(cache: dict[Path, zipfile.ZipFile]) -> None:
    for archive in cache.values():
        archive.close()
    cache.clear()


def hash_file(path: Path, name: Name) -> tuple[str, int]:
    """sha256 and size of a regular file, refusing one over MAX_FILE_BYTES before reading it."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        if size > MAX_FILE_BYTES:
            raise InputTooLarge(f"{name.text}: {size:,} bytes, over the limit of {MAX_FILE_BYTES >> 20} MiB", hint="split the file")
        digest = hashlib.file_digest(f, "sha256")
    return digest.hexdigest(), size
