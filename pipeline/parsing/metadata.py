"""The 政府信息公开 metadata block a site prints with a notice: 索引号, 发布机构, 发文字号, 成文日期…

Sites print it as a table read row by row (`索引号 620… 发文字号 民政发〔2020〕110号`), as
bracketed labels (`[ 发文字号 ] 曲水府发〔2023〕21号`, `•【字号】渝国税发[2014]44号`), as
`label：value` lines, or as a label line with its value on the next line; before the text or
after it. Only the labels below are read, so running text is never taken for a field.

This is the one reader of the block: a saved web page's reader (pipeline.reading.webpage) finds
the block's cells in the page and hands them over as lines, like any other text.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from pipeline.parsing.junk import simplified
from pipeline.text.split import TextLine

# Label → the field it fills. `signed` is the 成文日期 (a date the standard prints); `posted`
# dates are the site's, never an issue date.
FIELDS: dict[str, str] = {
    "索引号": "index",
    "信息索引号": "index",
    "文件编号": "doc_number",
    "发文机构": "issuer",
    "发布单位": "publisher",
    "成文时间": "signed",
    "签署日期": "signed",
    "公开日期": "posted",
    "生效日期": "effective",
    "发文字号": "doc_number",
    "文号": "doc_number",
    "字号": "doc_number",
    "发文号": "doc_number",
    "发布机构": "publisher",
    "发文机关": "issuer",
    "发布机关": "issuer",
    "制定机关": "issuer",
    "颁发部门": "issuer",
    "发文单位": "issuer",
    "成文日期": "signed",
    "发文日期": "signed",
    "签发日期": "signed",
    "发布日期": "posted",
    "公布日期": "posted",
    "生成日期": "posted",
    "发布时间": "posted",
    "实施日期": "effective",
    "施行日期": "effective",
    "执行日期": "effective",
    "标题": "title",
    "名称": "title",
    "文件名称": "title",
}
# Labels read only to know where a value ends.
_OTHER = (
    "主题分类|体裁分类|组配分类|服务对象分类|公开形式|公开方式|公开范围|公开时限|责任部门|关键词|主题词|信息分类|有效地区|时效性|"
    "效力等级|效力状态|有效性|是否有效|法规分类|法规级次|法规来源|重要级别|法规效力|所属主题|信息类别|文种|废止日期|失效日期|"
    "统一编号|登记号|所属机构|内容分类|来源|文章属性|正文"
)
_LABELS = "|".join(sorted(FIELDS, key=len, reverse=True)) + "|" + _OTHER
# A label, bracketed or not, with its colon. Normalising removes the spaces between a table's
# cells (`公开形式主动公开责任部门政府办`), so labels are found without separators.
_LABEL_RE = re.compile(rf"[\[【［]?\s*(?P<label>{_LABELS})\s*[\]】］]?\s*[：:]?")
BRACKETED_LABEL_RE = re.compile(rf"[\[【［]\s*(?P<label>{_LABELS})\s*[\]】］]")
_STRIP = " \t|｜•·[]【】［］：:"


class Field(BaseModel):
    """One metadata value and where it stands in the file's normalised text."""

    label: str
    value: str
    start: int
    end: int


class Metadata(BaseModel):
    fields: dict[str, Field] = {}
    lines: set[int] = set()
    # Every label with its value as printed (主题分类 and the rest too): what the file says about
    # itself, kept with the document.
    printed: dict[str, str] = {}

    def get(self, name: str) -> Field | None:
        return self.fields.get(name)


def _labels_in(text: str) -> list[re.Match[str]]:
    """The labels of a metadata line: the first stands at its start (a table row, a `label：value`
    line); bracketed labels (`【字号】`) count anywhere, as sites run a block into one line."""
    simple = simplified(text)
    lead = len(simple) - len(simple.lstrip(" \t|｜•·"))
    first = _LABEL_RE.match(simple, lead)
    if first:
        return list(_LABEL_RE.finditer(simple, lead))
    return list(BRACKETED_LABEL_RE.finditer(simple))


def read(lines: list[TextLine]) -> Metadata:
    """Every labelled value of the metadata block(s) among `lines` (first value of a field wins)."""
    meta = Metadata()
    i = 0
    while i < len(lines):
        text = lines[i].text
        found = _labels_in(text)
        if not found:
            i += 1
            continue
        meta.lines.add(i)
        for k, m in enumerate(found):
            label = m.group("label")
            value_end = found[k + 1].start() if k + 1 < len(found) else len(text)
            raw = text[m.end() : value_end]
            lead = len(raw) - len(raw.lstrip(_STRIP))
            value = raw.strip(_STRIP)
            start = lines[i].start + m.end() + lead
            if not value and len(found) == 1 and i + 1 < len(lines) and not _labels_in(lines[i + 1].text):
                # A label line with its value on the next line (a two-column table read cell by cell).
                nxt = lines[i + 1]
                value = nxt.text.strip(_STRIP)
                start = nxt.start + len(nxt.text) - len(nxt.text.lstrip(_STRIP))
                meta.lines.add(i + 1)
                i += 1
            if label == "正文":
                continue
            if value and label not in meta.printed:
                meta.printed[label] = value
            name = FIELDS.get(label)
            if name and value and name not in meta.fields:
                meta.fields[name] = Field(label=label, value=value, start=start, end=start + len(value))
        i += 1
    return meta
