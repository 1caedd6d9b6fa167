"""Reading: a file in, its pages as lines of text with boxes out (`models.ReadResult`).

    sniff.py       what a file is, from its bytes: PDF, image, text, archive, or refused with the reason
    load.py        pages out of it: a PDF's text layer or its embedded scans at native resolution, images, text
    preprocess.py  each page image prepared for OCR: orientation, deskew, background, red ink removed
    engines/       the OCR engines behind one interface (rapidocr, tesseract)
    latin.py       e-mail and web addresses OCR read, read again by tesseract `eng` and reconciled
    read.py        the stage: sniff → load → prepare → OCR → Latin check, a `ReadResult` of `Page`s

Nothing here knows what a notice is; `pipeline.text` takes the pages on.
"""
