"""Open an e-mail (.eml, .msg, .mbox) into the inputs it carries, each with its routing record.

    mail_parts(path, kind) -> list[Part]     every attachment (a nested message's too), and the
                                             body when it holds a notice; Part.refusal says why
                                             a part cannot be read

A notice forwarded by mail is the attachment, not the mail: each attachment becomes its own
input (a .docx, an OFD, a scan, a zip of them), and the mail's sender, date and subject go
with it as its routing record (收文: from whom, when). The body counts as an input only when
it holds a notice itself: a 文号 line, or a title line ending in a 文种 (GB/T 9704 §8.1).

Limits, each refusing with its reason: more than MAX_ATTACHMENTS attachments in one mail,
messages nested deeper than MAX_NESTING (forwards of forwards), a mail larger than
MAX_MAIL_BYTES. Parsing is the standard library's `email` (RFC 5322/2045-2047/2231) and
`mailbox`; Outlook's .msg is read by extract-msg.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

from models.document import Routing
from pipeline.errors import InputError, InputTooLarge
from pipeline.parsing.docnumber import DOCNUMBER_LINE_RE
from pipeline.reading.decoding import decode_text
from pipeline.text.reflow import DOC_TYPES

MAX_ATTACHMENTS = 100  # a mail with more is a bulk export, not a forwarded notice
MAX_NESTING = 4  # a forward inside a forward inside a forward… deeper is refused
MAX_MAIL_BYTES = 256 << 20
TITLE_LINE = re.compile(rf"^.{{0,80}}关于.{{2,200}}的(?:{'|'.join(DOC_TYPES)})$")
BODY_NAME = "正文"


@dataclass(frozen=True)
class Part:
    name: str  # the attachment's file name, or 正文.txt / 正文.html for the body
    data: bytes
    routing: Routing
    refusal: str | None = None


@dataclass
class Walk:
    path: Path
    parts: list[Part] = field(default_factory=list)
    attachments: int = 0


def mail_parts(path: Path, kind: str) -> list[Part]:
    size = path.stat().st_size
    if size > MAX_MAIL_BYTES:
        raise InputTooLarge(f"{path}: an e-mail of {size:,} bytes, over the limit of {MAX_MAIL_BYTES:,}")
    walk = Walk(path)
    if kind == "msg":
        read_msg(walk, path)
    elif kind == "mbox":
        box = mailbox.mbox(path, create=False)
        try:
            for message in box:
                read_message(walk, email.message_from_bytes(message.as_bytes(), policy=email.policy.default), [], 0)
        finally:
            box.close()
    else:
        read_message(walk, email.message_from_bytes(path.read_bytes(), policy=email.policy.default), [], 0)
    if walk.attachments > MAX_ATTACHMENTS:
        raise InputError(
            f"{path}: an e-mail with {walk.attachments} attachments, over the limit of {MAX_ATTACHMENTS}",
            hint="save the attachments that are notices and ingest those",
        )
    return walk.parts


def header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, AttributeError):  # a malformed encoded-word header
        value = None
    return " ".join(str(value).split()) if value else None


def received_at(message: Message) -> str | None:
    """When the clerk's server took the mail (the top Received header's date), else when it was sent."""
    received = message.get_all("Received") or []
    for value in [*(str(r).rsplit(";", 1)[-1] for r in received[:1] if ";" in str(r)), header(message, "Date")]:
        if not value:
            continue
        try:
            return parsedate_to_datetime(value.strip()).isoformat()
        except (TypeError, ValueError, IndexError):
            continue
    return None


def routing_of(message: Message, via: list[str]) -> Routing:
    return Routing(
        sender=header(message, "From"),
        received=received_at(message),
        subject=header(message, "Subject"),
        message_id=header(message, "Message-ID"),
        via=via,
    )


def read_message(walk: Walk, message: Message, via: list[str], depth: int) -> None:
    routing = routing_of(message, via)
    subject = routing.subject or "(no subject)"
    if depth > MAX_NESTING:
        walk.parts.append(Part(f"{subject}.eml", message.as_bytes(), routing, f"messages nested more than {MAX_NESTING} deep: not opened further"))
        return
    body: tuple[str, bytes, str | None] | None = None
    for part in leaves(message):
        ctype = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if ctype == "message/rfc822" or (filename and filename.lower().endswith(".eml")):
            walk.attachments += 1
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                nested = inner[0]
            else:
                nested = email.message_from_bytes(payload_bytes(part), policy=email.policy.default)
            read_message(walk, nested, [*via, subject], depth + 1)
            continue
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            if ctype.startswith("multipart/"):
                continue
            walk.attachments += 1
            if walk.attachments <= MAX_ATTACHMENTS:
                name = filename or f"attachment-{walk.attachments}"
                walk.parts.append(Part(name, payload_bytes(part), routing.model_copy(update={"attachment": name})))
            continue
        if body is None or (body[0] == "html" and ctype == "text/plain"):
            body = ("plain" if ctype == "text/plain" else "html", payload_bytes(part), part.get_content_charset())
    if body is not None:
        add_body(walk, body, routing)


def leaves(message: Message) -> Iterator[Message]:
    """The message's parts that are not multipart, in order; an attached message is one leaf
    (Message.walk() would step into it, and its parts would lose their own routing)."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    payload = message.get_payload()
    for part in payload if isinstance(payload, list) else []:
        yield from leaves(part)


def payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    inner = part.get_payload()
    return inner.encode("utf-8", "replace") if isinstance(inner, str) else b""


def add_body(walk: Walk, body: tuple[str, bytes, str | None], routing: Routing) -> None:
    kind, data, charset = body
    text, _ = decode_text(data, charset, what="the mail body")
    plain = re.sub(r"<[^>]+>", "\n", text) if kind == "html" else text
    if not holds_notice(plain):
        return
    name = f"{BODY_NAME}.{'html' if kind == 'html' else 'txt'}"
    # the body is stored as UTF-8 whatever its charset was, so the text reader takes it as is
    walk.parts.append(Part(name, text.encode("utf-8"), routing.model_copy(update={"attachment": None})))


def holds_notice(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines()]
    return any(DOCNUMBER_LINE_RE.match(line) or TITLE_LINE.match(line) for line in lines if line)


def read_msg(walk: Walk, path: Path) -> None:
    """Outlook's .msg: sender, date, subject and attachments through extract-msg."""
    import extract_msg

    try:
        msg = extract_msg.openMsg(str(path))
    except Exception as e:  # extract-msg raises its own errors and olefile's for a damaged file
        raise InputError(f"{path}: not a readable Outlook message: {type(e).__name__}: {e}") from e
    try:
        read_msg_message(walk, msg, [], 0)
    finally:
        msg.close()


def read_msg_message(walk: Walk, msg: object, via: list[str], depth: int) -> None:
    sent = getattr(msg, "date", None)
    routing = Routing(
        sender=getattr(msg, "sender", None),
        received=sent.isoformat() if isinstance(sent, datetime) else (str(sent) if sent else None),
        subject=getattr(msg, "subject", None),
        message_id=getattr(msg, "messageId", None),
        via=via,
    )
    subject = routing.subject or "(no subject)"
    if depth > MAX_NESTING:
        walk.parts.append(Part(f"{subject}.msg", b"", routing, f"messages nested more than {MAX_NESTING} deep: not opened further"))
        return
    for att in getattr(msg, "attachments", []):
        walk.attachments += 1
        data = getattr(att, "data", None)
        if data is not None and not isinstance(data, bytes):  # an embedded message
            read_msg_message(walk, data, [*via, subject], depth + 1)
            continue
        if walk.attachments <= MAX_ATTACHMENTS:
            name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or f"attachment-{walk.attachments}"
            walk.parts.append(Part(name, data or b"", routing.model_copy(update={"attachment": name})))
    body = getattr(msg, "body", None) or ""
    if body and holds_notice(body):
        walk.parts.append(Part(f"{BODY_NAME}.txt", body.encode("utf-8"), routing))

