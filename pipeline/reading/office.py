"""Convert a Word 97 .doc or a WPS .wps to .docx with LibreOffice headless, then read that.

    read_legacy_word(path, timeout=CONVERT_TIMEOUT) -> Page     source "word", as pipeline.reading.word

WPS Office writes .wps in the Word 97 binary format (an OLE file with a WordDocument stream);
Microsoft Works' .wps has a CONTENTS stream instead. LibreOffice reads both (its MS Word
filter and libwps); antiword reads .doc only and drops tables' structure, catdoc likewise.

LibreOffice runs:
- with a private profile folder per process (-env:UserInstallation): two instances sharing
  one profile wait on each other's lock, and a user's own LibreOffice must not be touched;
- in a new process group, killed whole after `timeout` seconds: a file that sends the
  filter into a loop must not hang the batch;
- without network where the kernel allows a private network namespace (unshare -rn), so a
  document's linked images or fields are never fetched.
The command is `soffice` from Debian's libreoffice-writer-nogui (scripts/system-deps.sh), or
$GONGWEN_SOFFICE.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from models.page import Page
from pipeline.errors import InputError, MissingDependency
from pipeline.reading.word import read_docx

CONVERT_TIMEOUT = 120.0  # a first start builds the profile (~10 s on 2 cores); a notice converts in 1-3 s


def soffice() -> str:
    command = os.environ.get("GONGWEN_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not command:
        raise MissingDependency(
            "LibreOffice (soffice) is needed to read .doc and .wps files and is not installed",
            hint="apt-get install libreoffice-writer-nogui (make install does it)",
        )
    return command


@cache
def profile_dir() -> Path:
    """One private LibreOffice profile per process, removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix=f"gongwen-lo-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@cache
def no_network_prefix() -> tuple[str, ...]:
    """`unshare -rn` where user namespaces are allowed (a private network with no interfaces)."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    try:
        ok = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (unshare, "-rn") if ok else ()


def convert_to_docx(path: Path, out_dir: Path, *, timeout: float | None = None) -> Path:
    """`path` converted into `out_dir`; InputError naming the file when the converter hangs, crashes or refuses."""
    timeout = timeout or float(os.environ.get("GONGWEN_CONVERT_TIMEOUT") or CONVERT_TIMEOUT)
    # LibreOffice picks its import filter by extension first: give it a name that says Word 97
    source = out_dir / "input.doc"
    shutil.copyfile(path, source)
    command = [
        *no_network_prefix(),
        soffice(),
        f"-env:UserInstallation={profile_dir().as_uri()}",
        "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
        "--convert-to", "docx:MS Word 2007 XML",
        "--outdir", str(out_dir),
        str(source),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise InputError(f"{path}: LibreOffice hung converting it and was stopped after {timeout:g} s") from None
    except BaseException:
        kill_group(proc)
        raise
    target = out_dir / "input.docx"
    if proc.returncode < 0:
        raise InputError(f"{path}: LibreOffice crashed converting it ({signal.Signals(-proc.returncode).name})")
    if proc.returncode != 0 or not target.exists():
        said = " ".join(output.decode("utf-8", "replace").split())[-300:]
        raise InputError(f"{path}: LibreOffice could not convert it (exit {proc.returncode}){': ' + said if said else ''}")
    return target


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """soffice.bin runs as a child of the soffice script: the whole group goes."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def read_legacy_word(path: Path, *, timeout: float | None = None) -> Page:
    with tempfile.TemporaryDirectory(prefix="gongwen-doc-") as folder:
        converted = convert_to_docx(path, Path(folder), timeout=timeout)
        try:
            page = read_docx(converted)
        except InputError as e:
            raise type(e)(e.message.replace(str(converted), f"{path} (converted)"), hint=e.hint) from e
    return page.model_copy(update={"warnings": [*page.warnings, "converted to .docx by LibreOffice"]})
