"""The forwarding chain: `(id, Document)` pairs in, a `models.ChainReport` (nodes, links, trees)
and the audit's `Finding`s out, drawn for people and programs. Pure functions; nothing is stored.

    links.py       references linked to notices (文号 first, titles second), placeholders, trees
    levels.py      agencies and levels compared, forwarding delays in official working days
    audit.py       the findings: missing notices, direction, delays, loops, reused 文号
    deadlines.py   the audit's deadlines across levels: passed down, later, short lead
    findings.py    what a finding quotes (evidence with its page) and how it names notices
    render.py      the tree on the terminal, as JSON, Graphviz SVG and Mermaid
"""
