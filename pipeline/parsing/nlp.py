"""The body-text analysis pipeline: a blank Chinese spaCy pipeline, nothing downloaded.

jieba segments words (shared/ocr-notes.md fact 9: `spacy.blank("zh")` with jieba runs
offline; never install the squatted `zh-core-web-sm`). On top:
- sentences split after Chinese sentence-final punctuation and paragraph breaks;
- a SpanRuler for obligation cues (请/须/务必/要/应 …) and action verbs (报送/开展 …),
  on whole jieba tokens so that 要 in 要求 or 报 in 报告会 is not a cue;
- a component that marks time expressions with the deadline engine (`pipeline.when`),
  which knows 文号 and cited dates are not deadlines.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline import when  # `至少` makes a quota a duty: `每年至少新建或改造提升10个农村互助幸福院`.
OBLIGATION_CUES = ["请", "请于", "须", "须于", "必须", "务必", "务必于", "要", "应", "应当", "应于", "需", "需要", "确保", "抓紧", "至少"]
ACTION_VERBS = ["报送", "上报", "报", "报至", "提交", "交", "送交", "反馈", "填报", "报名", "领取", "开展", "组织", "举办", "完成", "召开", "报告", "上传", "发送", "送", "报备", "备案"]
# A paragraph break ends a sentence too: a heading has no full stop.
SENTENCE_END = ["。", "！", "？", "!", "?", "\n"]


@Language.component("gongwen_sentences")
def _sentences(doc: Doc) -> Doc:
    """A sentence starts after 。！？ or a paragraph break.

    spaCy's own sentencizer keeps punctuation that follows a full stop in the same
    sentence, so `全覆盖。（此件…` would run into the bracketed note after it.
    """
    for i, token in enumerate(doc):
        token.is_sent_start = i == 0 or doc[i - 1].text in SENTENCE_END or doc[i - 1].text.endswith("\n")
    return doc


@Language.component("gongwen_time_expressions")
def _time_expressions(doc: Doc) -> Doc:
    """doc.spans["time"]: every time expression the deadline engine finds, with its reading in span._.when."""
    issue_date: date | None = doc.user_data.get("issue_date")
    year_hint: int | None = doc.user_data.get("year_hint")
    spans = []
    readings = []
    for found in when.find(doc.text, issue_date=issue_date, year_hint=year_hint):
        span = doc.char_span(found.start, found.end, label="TIME", alignment_mode="expand")
        if span is not None:
            spans.append(span)
            readings.append(found)
    doc.spans["time"] = spans
    doc.user_data["time_readings"] = readings
    return doc


@lru_cache(maxsize=1)
def body_pipeline() -> Language:
    # jieba logs its dictionary load on stderr at INFO; stdout stays data only.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("gongwen_sentences")
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": "cues"})
    ruler.add_patterns(
        [{"label": "OBLIGATION", "pattern": [{"TEXT": {"IN": OBLIGATION_CUES}}]}]
        + [{"label": "ACTION", "pattern": [{"TEXT": {"IN": ACTION_VERBS}}]}]
        # jieba joins a bare 报 with the level that follows it (`报县应急管理局` → 报县|应急|管理局)
        + [{"label": "ACTION", "pattern": [{"TEXT": {"REGEX": "^报[省市县区州乡镇]$"}}]}]
    )
    nlp.add_pipe("gongwen_time_expressions")
    return nlp


def analyse(text: str, *, issue_date: date | None, year_hint: int | None) -> Doc:
    nlp = body_pipeline()
    doc = nlp.make_doc(text)
    doc.user_data["issue_date"] = issue_date
    doc.user_data["year_hint"] = year_hint
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc
