"""Reading: a file in, its pages as lines of text with boxes out (`models.ReadResult`).

    sniff.py       what a file is, from its bytes: PDF, image, text, archive, or refused with the reason
    load.py        pages out of it: a PDF's text layer or its embedded scans at native resolution, images, text
    preprocess.py  each page image prepared for OCR: orientation, deskew, background, red ink removed
    engines/       the OCR engines behind one interface (rapidocr, tesseract)
    read.py        the stage: sniff → load → prepare → OCR, a `ReadResult` of `Page`s
    latin.py       e-mail and web addresses on OCR pages read again by tesseract `eng` and reconciled

Nothing here knows what a notice is; `pipeline.text` takes the pages on.
"""
