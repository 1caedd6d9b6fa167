"""Parsing: one document's slice of normalised text in, a `models.Document` out, every value with
where it came from (page, box, character span).

    parse.py       the stage: the GB/T 9704 elements zone by zone (版头, 主体, 版记)
    docnumber.py   发文字号 in every printed form, its canonical form and its conformity
    agencies.py    recipient lists, joint issuers, the level an agency works at
    contacts.py    contact blocks: people, offices, phones, emails, addresses
    references.py  what a notice forwards, attaches and cites
    nlp.py         the body-text pipeline (spaCy blank Chinese, jieba): sentences, cues, time spans
    duties.py      deadlines and standing duties, read with `pipeline.when`
"""
