"""Agency names: lists of recipients, joint issuers, and the level an agency works at.

主送机关 and 抄送机关 (GB/T 9704 §7.3.3, §8.2) are lists separated by `，` `、` `；`
at the top level only: `各县（市、区）民政局` is one item. Items that share a head
expand: `各县（市、区）民政局、老龄办` means the 民政局 and the 老龄办 of each county.
"""

from __future__ import annotations

import re

from models.document import Level

_OPENERS = "（(〔[【《“"
_CLOSERS = "）)〕]】》”"

# Heads whose inner `、` is part of the name, not a list separator.
_COMPOUND_HEADS = ("各省、自治区、直辖市", "各市、县（市、区）", "各市、县", "各省、自治区", "各县（市、区）", "各县(市、区)")


def split_top_level(text: str, separators: str = "，、；,;") -> list[tuple[str, str]]:
    """Split on separators outside brackets; each item with the separator that preceded it ('' first)."""
    items: list[tuple[str, str]] = []
    depth = 0
    current: list[str] = []
    sep_before = ""
    i = 0
    while i < len(text):
        compound = next((h for h in _COMPOUND_HEADS if text.startswith(h, i)), None)
        if compound and depth == 0:
            current.append(compound)
            i += len(compound)
            continue
        ch = text[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        if ch in separators and depth == 0:
            items.append(("".join(current).strip(), sep_before))
            current, sep_before = [], ch
        else:
            current.append(ch)
        i += 1
    items.append(("".join(current).strip(), sep_before))
    return [(item, sep) for item, sep in items if item]


# `各县（市、区）`, `各县（区）`, `各市`, `各省、自治区、直辖市`: the shared head of a 主送 group.
HEAD_RE = re.compile(
    r"^(各(?:省、自治区、直辖市|市、县（市、区）|乡镇|街道|[省市县区乡镇](?:[（(][^）)]*[）)])?|设区的市|有关[省市县区])?)"
)
# An item that is only an agency kind, lacking its own head: `老龄办`, `财政局`, `教育部门`.
_BARE_KIND_RE = re.compile(r"^[\u4e00-\u9fff]{1,7}(?:局|办|委|党委|厅|部门|单位|中心|站|所|院|校|会|处|室|政府|队)$")
# A unit that heads its own kinds without 各: `新疆生产建设兵团民政局、消防救援支队`.
_UNIT_HEAD_RE = re.compile(r"^(.{2,12}?(?:兵团|自治区|自治州|省|市|县|区|旗))(?=[\u4e00-\u9fff]{2,})")
_HAS_OWN_HEAD_RE = re.compile(r"^(?:各|省|市|县|区|全国|国家|中共|共青团|有关)")


def expand_list(text: str) -> list[str]:
    """Split a list of agencies and give bare items the head of the item before them."""
    text = text.strip().rstrip("：:。.；;，,")
    out: list[str] = []
    head = ""
    for item, sep in split_top_level(text):
        m = HEAD_RE.match(item)
        if m and item.startswith("各") and m.group(1) != item:
            head = m.group(1)
            out.append(item)
        elif sep == "、" and head and _BARE_KIND_RE.match(item) and not _HAS_OWN_HEAD_RE.match(item):
            out.append(head + item)
        else:
            unit = _UNIT_HEAD_RE.match(item)
            head = unit.group(1) if unit and not item.startswith(("省", "市", "县", "区")) else ""
            out.append(item)
    return out


# The national group of addressees: the 主送 `各省、自治区、直辖市民政厅` addresses the 民政厅 of
# each province, each autonomous region and each municipality, three kinds of addressee.
# A party or league prefix stays with the first kind: `共青团各省、自治区、直辖市委`.
_NATIONAL_GROUP_RE = re.compile(r"^(?P<prefix>中共|共青团|中国共产党)?(?P<group>各省、自治区(?:、直辖市)?)")


def addressees(text: str) -> list[str]:
    """主送 or 抄送 items (§7.3.3, §8.2): the list expanded, and the national group given as its
    kinds, each with the shared tail: `各省、自治区、直辖市民政厅` → `各省民政厅`, `自治区民政厅`,
    `直辖市民政厅` (the way the line reads, one item per 、 at the top level)."""
    out: list[str] = []
    for item in expand_list(text):
        m = _NATIONAL_GROUP_RE.match(item)
        if not m:
            out.append(item)
            continue
        tail = item[m.end() :]
        kinds = m.group("group").split("、")
        out += [(m.group("prefix") or "") + kinds[0] + tail] + [kind + tail for kind in kinds[1:]]
    return out


# --- joint issuers -------------------------------------------------------------------

# Agency-name endings, and the openings of a following agency name: between the two, GB/T 9704
# §7.3.2 prints a space in a title (`民政部 全国老龄办关于…`); OCR often loses it.
ORG_ENDINGS = "部|厅|局|办|委|室|会|院|府|署|处|所|站|中心|司|科|股|团|社|协|联|馆|队|组"
ORG_SUFFIX_RE = re.compile(f"(?:{ORG_ENDINGS})$")
_ORG_START_RE = re.compile(
    r"^(?:省|市|县|区|州|盟|旗|全国|国家|国务院|中共|中国|中央|共青团|各|自治区|"
    r"北京|天津|上海|重庆|河北|山西|内蒙古|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
    r"广东|广西|海南|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆)"
)


def names_boundary(left: str, right: str) -> bool:
    """Whether one agency name ends at the end of `left` and another starts `right`."""
    if not ORG_SUFFIX_RE.search(left) or right.startswith("关于"):
        return False
    if re.search(r"(?:^|\s)(?:共青团|中共|中国共产党)$", left):
        return False  # `共青团中央`, `中共中央`: the word opens a name, it does not end one
    if _ORG_START_RE.match(right):
        return True
    # `临汾市民政局 临汾市老龄…`, `中共洪洞县委办公室 洪洞县人民政府…`: the right name opens with a place the left one names.
    m = re.match(r"[\u4e00-\u9fff]{1,6}?[省市县区旗]", right)
    return bool(m) and m.group(0) in left


_ISSUER_HEAD_RE = re.compile(r"(^|《)([^《》关]{4,60}?)(?=关于|转发)")


def space_joint_issuers(title: str) -> str:
    """`民政部国家消防救援局关于…` → `民政部 国家消防救援局关于…`: the space between joint issuers
    that a title prints and OCR drops, restored wherever an issuer part (before 关于/转发) holds
    several agency names run together."""

    def spaced(m: re.Match[str]) -> str:
        head = m.group(2)
        out = head[0]
        for i in range(1, len(head)):
            if head[i] != " " and out[-1] != " " and names_boundary(head[:i], head[i:]):
                out += " "
            out += head[i]
        return m.group(1) + out

    return _ISSUER_HEAD_RE.sub(spaced, title)

_PLACE_RE = re.compile(
    r"^(.{2,12}?(?:省|自治区|市|自治州|州|盟|地区|县|自治县|区|旗))(?=[\u4e00-\u9fff]{2,})"
)


def place_of(name: str) -> str | None:
    """The place an agency name starts with: `山西省民政厅` → `山西省`, `临汾市民政局` → `临汾市`."""
    m = _PLACE_RE.match(name)
    return m.group(1) if m else None


def expand_issuer(name: str, mark: str | None) -> str:
    """`省民政厅` under the mark `山西省民政厅` → `山西省民政厅`: the own-level prefix takes the mark's place."""
    place = place_of(mark) if mark else None
    if not place:
        return name
    for level_word in ("省", "自治区", "市", "州", "县", "区", "旗"):
        if name.startswith(level_word) and place.endswith(level_word) and not name.startswith(place):
            return place + name[len(level_word) :]
    return name


def split_issuers(text: str) -> list[str]:
    """Joint issuers as printed in a title or mark: separated by spaces or `、`."""
    parts = re.split(r"[\s、，,]+", text.strip())
    return [p for p in parts if p]


# --- levels ---------------------------------------------------------------------------

# One-character codes of the provincial-level divisions, as used in 文号 (晋民函 = Shanxi).
PROVINCE_CODES: dict[str, str] = {
    "京": "北京市", "津": "天津市", "冀": "河北省", "晋": "山西省", "蒙": "内蒙古自治区", "辽": "辽宁省",
    "吉": "吉林省", "黑": "黑龙江省", "沪": "上海市", "苏": "江苏省", "浙": "浙江省", "皖": "安徽省",
    "闽": "福建省", "赣": "江西省", "鲁": "山东省", "豫": "河南省", "鄂": "湖北省", "湘": "湖南省",
    "粤": "广东省", "桂": "广西壮族自治区", "琼": "海南省", "渝": "重庆市", "川": "四川省", "蜀": "四川省",
    "黔": "贵州省", "贵": "贵州省", "云": "云南省", "滇": "云南省", "藏": "西藏自治区", "陕": "陕西省",
    "秦": "陕西省", "甘": "甘肃省", "陇": "甘肃省", "青": "青海省", "宁": "宁夏回族自治区", "新": "新疆维吾尔自治区",
}
PROVINCE_NAMES = tuple(sorted({n for n in PROVINCE_CODES.values()}, key=len, reverse=True))
# Short names as they open agency names: `山西省民政厅`, `北京市民政局`, `广西壮族自治区…`.
_PROVINCE_SHORT = tuple(
    sorted({re.sub(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", n) for n in PROVINCE_NAMES}, key=len, reverse=True)
)
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_STATE_RE = re.compile(r"^(?:国务院|中共中央|中央办公厅|中办|国办|全国人大|全国政协)")
_MINISTRY_RE = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}部(?![门]) |国家[\u4e00-\u9fff]{1,10}(?:局|委|署|总局|委员会)|全国[\u4e00-\u9fff]{1,12}(?:办|办公室|委员会|会)|中国[\u4e00-\u9fff]{1,10}(?:局|会|委))".replace(" ", ""))
_STATE_CODE_RE = re.compile(r"^(?:国|中办|国办|中发)")


def level_from_name(name: str) -> Level | None:
    """The level an agency name shows: its place word, else a national body's form."""
    name = name.strip()
    if _STATE_RE.match(name):
        return "state"
    for short in _PROVINCE_SHORT:
        if name.startswith(short):
            rest = name[len(short) :].lstrip("省市")
            rest = re.sub(r"^(?:壮族|回族|维吾尔)?自治区", "", rest)
            if short in _MUNICIPALITIES:
                # 北京市朝阳区民政局 is a county-level district; 北京市民政局 is provincial.
                return "county" if re.match(r"^[\u4e00-\u9fff]{1,6}?[区县]", rest) else "province"
            return _level_below_province(rest) or "province"
    if name.startswith("省"):
        return "province"
    if _MINISTRY_RE.match(name):
        return "ministry"
    return _level_below_province(name)


def _level_below_province(rest: str) -> Level | None:
    m = re.match(r"^[\u4e00-\u9fff]{1,8}?(市|自治州|州|盟|地区|县|自治县|旗|区)", rest)
    if not m:
        return None
    tail = rest[m.end() :]
    if m.group(1) in ("县", "自治县", "旗", "区"):
        return "county"
    # 临汾市尧都区民政局: a district inside the city.
    if re.match(r"^[\u4e00-\u9fff]{1,6}?(?:区|县)(?:[\u4e00-\u9fff]{2,})", tail) and not tail.startswith(("区域",)):
        return "county"
    return "city"


def level_from_code(agency_code: str) -> Level | None:
    """The level a 机关代字 shows: `民函` ministry, `晋民函` province, `临市民函` city."""
    if not agency_code:
        return None
    if _STATE_CODE_RE.match(agency_code):
        return "state"
    if agency_code[0] in PROVINCE_CODES:
        if len(agency_code) > 2 and agency_code[1] in "市州盟":
            return "city"
        return "province"
    if len(agency_code) > 2 and agency_code[1] in "市州盟":
        return "city"
    if len(agency_code) > 2 and agency_code[1] in "县区旗":
        return "county"
    return None


def level_of(names: list[str], agency_code: str | None) -> Level | None:
    """Names first (they carry the place), the 机关代字 where no name tells."""
    for name in names:
        level = level_from_name(name)
        if level:
            return level
    code_level = level_from_code(agency_code or "")
    if code_level:
        return code_level
    return "ministry" if agency_code else None


# --- the 主送机关 line ------------------------------------------------------------------

# What a 主送 item ends with: an agency, a kind of unit, a place whose agencies are meant
# (`各省、自治区、直辖市`), or people addressed as a body (`各位家长`).
_ADDRESSEE_END_RE = re.compile(
    f"(?:{ORG_ENDINGS}|单位|部门|机关|政府|组织|企业|公司|机构|园区|街道|乡镇|村|社区|学联|工会|医院|学校|院校|高校|"
    r"幼儿园|少年宫|宫|支部|党委|工委|团委|大队|中队|科室|处室|集团|银行|分行|支行|系|班|市|县|区|州|盟|旗|省|"
    r"自治区|直辖市|兵团|同志|同学|老师|家长|各位)$"
)
# Lines that end with a colon but are fields, not a 主送: contacts, 附件, 抄送, metadata.
_FIELD_LINE_RE = re.compile(
    r"^(?:联系|电话|手机|传真|邮箱|电子|地址|邮编|附件|主送|抄送|主题词|关键词|备注|注|说明|签发|来源|发布|核心提示|时间|地点)"
)
_TRAILING_BRACKETS_RE = re.compile(r"(?:[（(][^（()）]*[）)])+$")


def looks_like_recipients(text: str) -> bool:
    """A 主送机关 line (GB/T 9704 §7.3.3): agencies separated by `、` `，`, ending with a colon.

    `各县（市、区）民政局、老龄办：` is one; `现将有关事项通知如下：` and `联系人：` are not.
    Each item is short, and the list either addresses `各…` or ends with an agency's kind."""
    t = text.strip()
    if not t.endswith(("：", ":")) or len(t) > 300 or re.search(r"[。；！？;!?]", t) or _FIELD_LINE_RE.match(t):
        return False
    items = [item for item, _ in split_top_level(t[:-1])]
    if not items or any(len(item) > 40 or "《" in item for item in items):
        return False
    last = _TRAILING_BRACKETS_RE.sub("", items[-1])
    return any(item.startswith("各") for item in items) or bool(_ADDRESSEE_END_RE.search(last))
