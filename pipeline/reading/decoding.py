"""Bytes to text when the declared charset may lie (web pages, mail bodies and headers).

    decode_text(data, declared, what=...) -> (text, warnings)

Chinese mail and pages come in UTF-8 or GBK (GB2312, GB18030), and the label often says the
other one: a site template declares gb2312 over UTF-8 content, a mail client labels GBK text
as UTF-8. UTF-8 is tried first whatever the label says, because GBK text almost never
decodes as valid UTF-8, while UTF-8 text often decodes as GB18030 without error, into
nonsense. The label is used when UTF-8 fails; GB18030 (a superset of GB2312 and GBK) after it.
"""

from __future__ import annotations

import codecs

# GB2312 and GBK text is GB18030 text; decoding with the superset reads the characters the
# smaller tables lack (䶮, 镕) instead of failing on them
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "ascii": "utf-8", "us-ascii": "utf-8"}


def codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return WIDER.get(name, name)


def decode_text(data: bytes, declared: str | None, *, what: str = "the text") -> tuple[str, list[str]]:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), []
    label = codec_name(declared)
    tried = []
    for codec in dict.fromkeys(["utf-8", label or "gb18030", "gb18030"]):
        tried.append(codec)
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if declared and label != codec:
            return text, [f"{what} says its charset is {declared} but it is {codec}: read as {codec}"]
        return text, []
    text = data.decode(label or "gb18030", "replace")
    bad = text.count("\ufffd")
    return text, [f"{what} is not valid in {', '.join(tried)}: {bad} undecodable character(s) replaced"]
