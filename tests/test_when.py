"""The time-expression engine against the hand-labelled phrase table.

`tests/data/when_phrases.jsonl` holds one phrase a line, in the forms real notices use, with
the reading a clerk would give it, each expectation derived by hand (working-day ones checked
against chinese_calendar's schedule).  Never edit an expectation to match the engine's output
without re-deriving it by hand.

Line fields: `phrase`, `issue_date`, `year_hint`, `expect` {kind, start, end, rrule} for
`resolve`; optional `find` (the exact list of {phrase, kind, start?, end?, rrule?} that `find`
must return, [] for "nothing"), `notes_contain` (a substring one note must hold),
`max_confidence`, `offset_workdays` (the working-day offset of a recurring duty: 5 for
每季度末前5个工作日, -10 for 结束后10个工作日内, null for none) and `first` (a recurring duty's first
due day on or after the issue date, its working-day offset applied) and `rdates` (the listed due
days of a duty no RRULE holds, such as one at a lunar festival each year).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.when import When
from pipeline.when import Found, find, recurrence_label, resolve

TABLE = Path(__file__).parent / "data" / "when_phrases.jsonl"
ROWS = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
FIELDS = ("kind", "start", "end", "rrule")
# Accuracy floor per kind for the summary test; the per-line tests are the strict check.
MIN_ACCURACY = 0.95


def _args(row: dict) -> dict:
    issue = row["issue_date"]
    return {"issue_date": date.fromisoformat(issue) if issue else None, "year_hint": row["year_hint"]}


def _row_id(row: dict) -> str:
    return f"{ROWS.index(row) + 1:03d}-{row['phrase'][:18]}"


def _mismatches(row: dict) -> list[str]:
    """Why `resolve` (and `find`, if the row says) disagrees with the row; [] when it agrees."""
    problems = []
    when = resolve(row["phrase"], **_args(row))
    for field in FIELDS:
        if getattr(when, field) != row["expect"][field]:
            problems.append(f"{field}: got {getattr(when, field)!r}, expected {row['expect'][field]!r}")
    if "notes_contain" in row and not any(row["notes_contain"] in note for note in when.notes):
        problems.append(f"no note contains {row['notes_contain']!r}: {when.notes}")
    if "offset_workdays" in row and when.offset_workdays != row["offset_workdays"]:
        problems.append(f"offset_workdays: got {when.offset_workdays!r}, expected {row['offset_workdays']!r}")
    if "first" in row and getattr(when, "first", None) != row["first"]:
        problems.append(f"first: got {getattr(when, 'first', None)!r}, expected {row['first']!r}")
    if "rdates" in row and when.rdates != row["rdates"]:
        problems.append(f"rdates: got {when.rdates!r}, expected {row['rdates']!r}")
    if "max_confidence" in row and when.confidence > row["max_confidence"]:
        problems.append(f"confidence {when.confidence} above {row['max_confidence']}")
    if "find" in row:
        got = [_found_view(f, row["find"][i] if i < len(row["find"]) else {}) for i, f in enumerate(
            find(row["phrase"], **_args(row)))]
        if got != row["find"]:
            problems.append(f"find: got {got}, expected {row['find']}")
    return problems


def _found_view(found: Found, like: dict) -> dict:
    """The fields of a Found that an expected item names (phrase and kind always)."""
    view = {"phrase": found.phrase, "kind": found.when.kind}
    for field in ("start", "end", "rrule"):
        if field in like:
            view[field] = getattr(found.when, field)
    return view


def test_table_is_large_and_well_formed() -> None:
    assert len(ROWS) >= 120
    for row in ROWS:
        assert set(row["expect"]) == set(FIELDS), row["phrase"]
        assert row["expect"]["kind"] in ("date", "range", "recurring", "undeterminable")


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_phrase(row: dict) -> None:
    assert _mismatches(row) == []


def test_accuracy_per_kind() -> None:
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for row in ROWS:
        kind = row["expect"]["kind"]
        total[kind] += 1
        right[kind] += not _mismatches(row)
    print()
    for kind in sorted(total):
        print(f"  {kind:15} {right[kind]:3}/{total[kind]:3}  {right[kind] / total[kind]:.0%}")
    print(f"  {'all':15} {sum(right.values()):3}/{len(ROWS):3}")
    assert all(right[kind] / total[kind] >= MIN_ACCURACY for kind in total), dict(right)


# --- OCR noise must not change the reading --------------------------------------------------

_FULL_WIDTH = str.maketrans("0123456789:", "０１２３４５６７８９：")


@pytest.mark.parametrize("row", [r for r in ROWS if r["expect"]["kind"] != "undeterminable"], ids=_row_id)
def test_ocr_spacing_and_full_width_do_not_change_the_reading(row: dict) -> None:
    noisy = " ".join(row["phrase"].translate(_FULL_WIDTH))
    clean, dirty = resolve(row["phrase"], **_args(row)), resolve(noisy, **_args(row))
    assert [getattr(dirty, f) for f in FIELDS] == [getattr(clean, f) for f in FIELDS]


# --- find: offsets into the original sentence ------------------------------------------------

SEED_SENTENCE = (
    "省老龄委各成员单位，各市民政局、老龄办学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神的情况，"
    "请于 11 月 20 日前以电子版形式报省老龄办（省民政厅老龄工作处）。"
)


def test_find_offsets_in_the_seed_sentence() -> None:
    (found,) = find(SEED_SENTENCE, year_hint=2024)
    start = SEED_SENTENCE.index("11 月")
    assert (found.start, found.end) == (start, start + len("11 月 20 日前"))
    assert SEED_SENTENCE[found.start : found.end] == found.phrase == "11 月 20 日前"
    assert found.when.end == "2024-11-20"


def test_find_several_expressions_with_their_offsets() -> None:
    text = "请于2024年11月20日前报送自查报告，即日起至2025年3月31日开展专项整治，每季度末前5个工作日报送进展，并及时报告重大情况。"
    found = find(text, issue_date=date(2024, 11, 1))
    assert [f.phrase for f in found] == ["2024年11月20日前", "即日起至2025年3月31日", "每季度末前5个工作日", "及时"]
    assert all(text[f.start : f.end] == f.phrase for f in found)
    assert [f.when.kind for f in found] == ["date", "range", "recurring", "undeterminable"]
    assert found[1].when.start == "2024-11-01"


def test_find_offsets_survive_line_breaks_quotes_and_traditional_characters() -> None:
    text = "各單位請於11月\n20日前報送，“五一”前完成整改。"
    found = find(text, issue_date=date(2025, 3, 1))
    assert [f.phrase for f in found] == ["11月\n20日前", "五一”前"]
    assert [f.when.end for f in found] == ["2025-11-20", "2025-04-30"]
    assert all(text[f.start : f.end] == f.phrase for f in found)


def test_find_skips_the_narrative_event_but_keeps_the_deadline() -> None:
    text = "10月9日，习近平总书记给“银龄行动”老年志愿者代表回信。请于11月20日前报送学习贯彻情况。"
    found = find(text, year_hint=2024)
    assert [f.phrase for f in found] == ["11月20日前"]


def test_find_on_a_whole_notice_paragraph_returns_only_deadline_forms() -> None:
    text = (
        "现将《民政部、全国老龄办关于深入学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神的通知》"
        "（民函〔2024〕56号）转发给你们。要统筹推进、落实工作，围绕《山西省老龄工作委员会2024年工作要点》抓好工作落实。"
    )
    assert find(text, year_hint=2024) == []


def test_find_of_nothing() -> None:
    assert find("") == []
    assert resolve("").kind == "undeterminable"


# --- smaller contracts -------------------------------------------------------------------------


def test_resolve_returns_the_shared_record() -> None:
    when = resolve("请于11月20日前报送", year_hint=2024)
    assert isinstance(when, When)
    assert 0 < when.confidence <= 1


def test_a_dated_reading_wins_over_a_duty_word() -> None:
    assert resolve("请及时于11月20日前报送", year_hint=2024).end == "2024-11-20"


def test_year_source_is_noted() -> None:
    assert any("issue date 2024-10-28" in n for n in resolve("12月底前", issue_date=date(2024, 10, 28)).notes)
    assert any("〔2024〕" in n for n in resolve("12月底前", year_hint=2024).notes)


def test_relative_period_notes_its_base() -> None:
    when = resolve("收到通知后10个工作日内", issue_date=date(2024, 9, 20))
    assert when.end == "2024-10-10"
    assert any("10 working days from the issue date 2024-09-20 on the official calendar" in n for n in when.notes)


@pytest.mark.parametrize(
    ("rrule", "label"),
    [
        ("FREQ=YEARLY", "yearly"),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", "yearly"),
        ("FREQ=MONTHLY;INTERVAL=6", "half-yearly"),
        ("FREQ=MONTHLY;INTERVAL=3", "quarterly"),
        ("FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1", "quarterly"),
        ("FREQ=MONTHLY;BYMONTHDAY=5", "monthly"),
        ("FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1", "half-yearly"),
        ("FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=10,20;BYSETPOS=1,4", "half-yearly"),
        ("FREQ=MONTHLY;BYMONTH=3,9;BYMONTHDAY=15", "half-yearly"),
        ("FREQ=WEEKLY;BYDAY=FR", "weekly"),
        ("FREQ=DAILY", "daily"),
    ],
)
def test_recurrence_label(rrule: str, label: str) -> None:
    assert recurrence_label(rrule) == label


@pytest.mark.parametrize(
    ("phrase", "dates"),
    [
        ("每年6月30日和12月31日前", ["2025-06-30", "2025-12-31", "2026-06-30", "2026-12-31"]),
        ("每年1月10日和7月20日前", ["2025-01-10", "2025-07-20", "2026-01-10", "2026-07-20"]),
        ("每年3月15日和9月15日前", ["2025-03-15", "2025-09-15", "2026-03-15", "2026-09-15"]),
        (
            "每年3月31日、6月30日、9月30日和12月31日前",
            ["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"],
        ),
    ],
)
def test_several_dates_a_year_expand_to_exactly_the_printed_dates(phrase: str, dates: list[str]) -> None:
    """One RRULE per duty: its set must be the printed dates, no cross-product extras (RFC 5545 §3.3.10)."""
    from datetime import datetime

    from dateutil.rrule import rrulestr

    rule = rrulestr(resolve(phrase).rrule, dtstart=datetime(2025, 1, 1))
    assert [d.date().isoformat() for d in rule[:4]] == dates


# --- robustness: find runs on raw OCR text ------------------------------------------------------


_NOTICE_ALPHABET = st.sampled_from(
    list("0123456789０１２３OolI年月日号时点分前后至到起止每周季度半上中下旬底末初内个工作天以之及时"
         "〇○一二三四五六七八九十两春节国庆元旦五一端午中秋清明《》（）()〔〕[]，。；：:-—～ \n请于报送印发收到通知星期")
)


@settings(max_examples=400, deadline=None)
@given(st.text(_NOTICE_ALPHABET, max_size=40), st.sampled_from([None, date(2024, 9, 20), date(2026, 12, 1)]))
def test_find_never_raises_and_offsets_are_exact(text: str, issue: date | None) -> None:
    for found in find(text, issue_date=issue, year_hint=2024):
        assert text[found.start : found.end] == found.phrase
        assert found.when.kind in ("date", "range", "recurring", "undeterminable")
    resolve(text, issue_date=issue, year_hint=2024)


def test_a_whole_month_without_a_deadline_word_is_a_window() -> None:
    _, period = find("请于1月10日前报送12月份数据", issue_date=date(2024, 11, 1))
    assert (period.when.kind, period.when.start, period.when.end) == ("range", "2024-12-01", "2024-12-31")
    assert any("a period named as a whole" in note for note in period.when.notes)
