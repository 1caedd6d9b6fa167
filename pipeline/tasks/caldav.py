"""Push tasks to a CalDAV calendar (RFC 4791) with the caldav library: the one seam to calendar servers.

    open_calendar(url, username=None, password=None) -> caldav.Calendar   connect; create it if absent
    resources(data) -> list[Resource]                                      one object per UID
    push(data, calendar) -> PushReport                                     create or replace each object

A calendar file holds many components; a CalDAV server stores one calendar object resource per
UID (RFC 4791 §4.1), each a VCALENDAR with its own VTIMEZONEs and no METHOD.  `resources`
splits the checked file that way.  `push` then writes every resource with one PUT: to the URL
of the object that already has its UID, which replaces it (a second push updates, never adds a
copy, even when another client such as Thunderbird stored the object under its own name), or
to `<calendar>/<UID>.ics`.  Objects made by an earlier push whose task no longer exists are
reported as `stale`, never deleted: a clerk may have ticked them off or written notes in them.

`push` takes the calendar as a parameter, so tests hand it a real Radicale calendar or a fake.
RFC 6764 service discovery is off: the URL given is the calendar, and nothing else is asked of
DNS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin

import caldav
import icalendar
from caldav.elements import dav
from caldav.lib import error as caldav_error

from pipeline.tasks.ical import PRODID
from pipeline.errors import CalendarError

__all__ = ["PushReport", "Resource", "open_calendar", "push", "resources"]

_TIMEOUT = 30  # seconds per request
_OUR_UIDS = "gongwen-"
_KINDS: dict[str, type[caldav.CalendarObjectResource]] = {
    "VTODO": caldav.Todo, "VEVENT": caldav.Event, "VJOURNAL": caldav.Journal,
}  # fmt: skip
_SERVER_ERRORS = (caldav_error.DAVError, OSError)  # OSError: niquests' connection errors derive from it


@dataclass(frozen=True)
class Resource:
    """One calendar object resource: a VCALENDAR holding the components of one UID."""

    uid: str
    kind: str  # VTODO / VEVENT / VJOURNAL
    data: bytes


@dataclass
class PushReport:
    """What a push did, by UID."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list, metadata={"doc": "ours on the server, not in this push"})


def _server_error(url: str, what: str, e: Exception) -> GongwenError:
    first_line = next(iter(str(e).strip().splitlines()), "")
    return CalendarError(
        f"CalDAV server {url}: {what} failed: {type(e).__name__}: {first_line}",
        hint="check the calendar URL, --user and --password, and that the server is running",
    )


def open_calendar(url: str, username: str | None = None, password: str | None = None) -> caldav.Calendar:
    """The calendar collection at `url`, made with MKCALENDAR (RFC 4791 §5.3.1) if it does not exist.

    A server may only create a user's home collection once the user's principal has been asked
    for (RFC 5397 current-user-principal; Radicale does so), so that is asked before creating.
    """
    client = caldav.DAVClient(url=url, username=username, password=password, timeout=_TIMEOUT, enable_rfc6764=False)
    calendar = client.calendar(url=url)
    try:
        calendar.get_properties([dav.ResourceType()])
        return calendar
    except caldav_error.NotFoundError:
        pass
    except _SERVER_ERRORS as e:
        raise _server_error(url, "reading the calendar", e) from e
    base, _, name = str(calendar.url).rstrip("/").rpartition("/")
    try:
        caldav.DAVObject(client=client, url=urljoin(url, "/")).get_property(dav.CurrentUserPrincipal())
        created = caldav.Calendar(
            client=client,
            parent=caldav.DAVObject(client=client, url=base + "/"),
            id=unquote(name),
            name="公文期限",
            supported_calendar_component_set=["VTODO", "VEVENT"],
        )
        created.save()
    except _SERVER_ERRORS as e:
        raise _server_error(url, "creating the calendar", e) from e
    return client.calendar(url=url)


def resources(data: bytes) -> list[Resource]:
    """Split a calendar into one VCALENDAR per UID, each with the VTIMEZONEs its TZIDs name."""
    cal = icalendar.Calendar.from_ical(data)
    timezones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    grouped: dict[str, list[icalendar.Component]] = {}
    for component in cal.subcomponents:
        if component.name in _KINDS:
            grouped.setdefault(str(component["UID"]), []).append(component)
    out = []
    for uid, components in grouped.items():
        single = icalendar.Calendar()
        single.add("prodid", PRODID)
        single.add("version", "2.0")
        used = {str(prop.params["TZID"]) for c in components for prop in c.values() if hasattr(prop, "params")
                and "TZID" in prop.params}  # fmt: skip
        for tzid in sorted(used & timezones.keys()):
            single.add_component(timezones[tzid])
        for component in components:
            single.add_component(component)
        out.append(Resource(uid, components[0].name, single.to_ical()))
    return out


def _existing(calendar: caldav.Calendar) -> dict[str, str]:
    """UID → URL of every object in the calendar."""
    found = {}
    for obj in calendar.get_objects(load_objects=True):
        component = obj.icalendar_component
        if component is not None and "UID" in component:
            found[str(component["UID"])] = str(obj.url)
    return found


def push(data: bytes, calendar: caldav.Calendar) -> PushReport:
    """Write every component of `data` to `calendar`, replacing objects with the same UID."""
    url = str(calendar.url)
    try:
        existing = _existing(calendar)
    except _SERVER_ERRORS as e:
        raise _server_error(url, "listing the calendar", e) from e
    report = PushReport()
    objects = resources(data)
    for resource in objects:
        at = existing.get(resource.uid)
        obj = _KINDS[resource.kind](client=calendar.client, url=at, parent=calendar)
        try:
            obj.save(raw_data=resource.data)
        except _SERVER_ERRORS as e:
            raise _server_error(url, f"writing {resource.uid}", e) from e
        (report.updated if at else report.created).append(resource.uid)
    pushed = {r.uid for r in objects}
    report.stale = sorted(uid for uid in existing if uid.startswith(_OUR_UIDS) and uid not in pushed)
    return report
