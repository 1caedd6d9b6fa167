"""Fold a text for matching, keeping a map back to the original offsets.

In: the raw text of a sentence (OCR output included).  Out: a `Folded` copy with OCR spaces, line
breaks and quotes dropped, full-width ASCII made half-width, look-alike zeros and digit-letters
(`2O24`) repaired and traditional characters simplified, one output character per kept input
character so every match maps back to a span of the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


# -- Normalisation with an offset map ---------------------------------------------------------


@dataclass(frozen=True)
class Folded:
    text: str
    index: tuple[int, ...]  # index[i] = offset in the original of text[i]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.index[start], self.index[end - 1] + 1

    def sentence_start(self, pos: int) -> bool:
        """Whether `pos` begins a sentence: text start, after 。！？；, or after a line break."""
        if pos == 0:
            return True
        if self.text[pos - 1] in "。!?;":
            return True
        return "\n" in self.original[self.index[pos - 1] + 1 : self.index[pos]]


# OCR puts spaces between characters and breaks lines inside words; quotes wrap holiday names.
_DROPPED = frozenset(" \t\r\n\f\v\u3000\u00a0\u200b“”\"‘’「」『』")
_LOOKALIKE_ZERO = {"○": "〇", "◯": "〇", "Ｏ": "O"}
# A run of digits with O/o/l/I mixed in (2O24, l1月), not touching other Latin letters.
_OCR_DIGITS_RE = re.compile(r"(?<![A-Za-z])[0-9OolI]*[0-9][0-9OolI]*(?![A-Za-z])")
_OCR_DIGIT_FIX = str.maketrans("OolI", "0011")


@lru_cache(maxsize=1)
def _t2s_converter():  # opencc reads its dictionaries: load on first use, not at import
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def simplified_char(ch: str) -> str:
    """Traditional → simplified for one character (報→报, 個→个); keeps 1:1 offsets."""
    converted = _t2s_converter().convert(ch)
    return converted if len(converted) == 1 else ch


def _fold_char(ch: str) -> str:
    ch = _LOOKALIKE_ZERO.get(ch, ch)
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII (１１月, （, ：, ～)
        return chr(code - 0xFEE0)
    if code >= 0x3400:
        return simplified_char(ch)
    return ch


def fold(text: str) -> Folded:
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _DROPPED:
            continue
        chars.append(_fold_char(ch))
        index.append(i)
    folded = _OCR_DIGITS_RE.sub(lambda m: m.group().translate(_OCR_DIGIT_FIX), "".join(chars))
    return Folded(folded, tuple(index), text)
