"""The clerk's desk: a server-rendered web page over the store (`gongwen serve`).

    app.py        create_app: routes, middleware, templates (the route list is in its docstring)
    desk.py       what every view shares: settings, connections (read-only for reads), render, kept pages
    security.py   allowed hosts, body size cap, sign-in rule and throttle, CSRF tokens, strict browser headers
    sessions.py   sessions kept on the server, the cookie only a random id
    records.py    the register's rows and the tasks, read through the clerk's corrections
    snapshot.py   the archive read once per state of the store (PRAGMA data_version), the chain and pages kept with it
    scans.py      page pictures in their boxes' pixel space, from the kept original
    uploads.py    uploads ingested in the background, with progress
    views_*.py    the pages: register, document, tasks (deadlines, .ics, CalDAV), chain, upload, account
    templates/    Jinja2, autoescaped; static/ one stylesheet and one small script, no build step
"""
