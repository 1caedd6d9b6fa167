"""Parsing: one document's slice of normalised text in, a `models.Document` out, every value with
where it came from (page, box, character span).

    parse.py       the stage: the GB/T 9704 elements zone by zone (版头, 主体, 版记)
    segment.py     run-on lines cut at the elements they hold
    junk.py        what a web page prints around a notice, never a value
    layout.py      where the head elements stand, whatever the page's layout
    head.py        版头, 发文字号, 签发人, 标题; metadata.py a site's 政府信息公开 block
    closing.py     附件说明, 署名 and 成文日期, 附注, 抄送, 印发
    docnumber.py   发文字号 in every printed form, its canonical form and its conformity
    agencies.py    recipient lists, joint issuers, the level an agency works at
    contacts.py    contact blocks: people, offices; contact_values.py phones and e-mails as printed and as dialled
    contact_checks.py  doubtful values OCR read set apart as uncertain, each with a problem
    references.py  what a notice forwards, attaches and cites
    nlp.py         the body-text pipeline (spaCy blank Chinese, jieba): sentences, cues, time spans
    duties.py      deadlines and standing duties, read with `pipeline.when`
"""
