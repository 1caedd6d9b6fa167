"""Tasks: `Document`s in, the deadlines and duties as `models.Task` records out, and those tasks
written where calendars read them.

    records.py     documents to tasks; recurring duties' occurrences on the official working-day calendar
    ical.py        tasks to an iCalendar file, and the checker every written file passes
    caldav.py      tasks to a CalDAV calendar, updating rather than duplicating
"""
