"""Text: pages of lines in, one document's slice of clean text out, with a map back to the raw text.

    clean.py       each line: the scanner's watermark, OCR spaces, look-alike characters, page numbers
    reflow.py      lines into paragraphs where the printed line was full (GB/T 9704 §5.2.1)
    normalise.py   the stage: `Page`s to a `Text` whose every character points at its raw index
    split.py       a bundle into its documents at each 版头
    provenance.py  a span of the text back to its page, its box and the raw characters

`pipeline.parsing` reads the slices.
"""
