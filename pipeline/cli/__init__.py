"""The `gongwen` command: arguments in, JSON on stdout (talk and progress on stderr) and the exit
codes of `pipeline.errors` out. Each module registers its commands on the one Typer app.

    app.py         the app, the shared options and the error handling every command goes through
    main.py        the entry point; parse, ocr, when, version
    store.py       ingest, reparse, list, show, search, users
    calendar.py    deadlines: JSON, a table, an .ics file, a CalDAV push
    chain.py       chain and audit
    web.py         serve, the clerk's desk
"""
