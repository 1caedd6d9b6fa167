"""Pushing tasks to a real CalDAV server (pipeline.tasks.caldav) and reading them back.

The server is Radicale, started by the fixture as a subprocess on 127.0.0.1 with a free port,
no authentication and a storage folder under tmp_path; it is stopped when the module's tests
are done.  Only loopback traffic.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import caldav
import icalendar
import pytest
from test_tasks import PROVINCE, SEED, make_task, seed_tasks
from typer.testing import CliRunner

import pipeline.cli.calendar  # noqa: F401  (registers `deadlines` on the app)
from pipeline.tasks.caldav import open_calendar, push, resources
from pipeline.tasks.ical import CalendarOptions, calendar_bytes, uid_of
from pipeline.cli.main import app
from pipeline.errors import CalendarError
from pipeline.run import parse_file

STAMP = datetime(2024, 11, 1, tzinfo=UTC)
STARTUP_TRIES = 200  # × 0.05 s polls for the port: a bound on the wait, not a timing assertion
USER = "clerk"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Radicale server of our own on 127.0.0.1."""
    pytest.importorskip("radicale", reason="radicale is not installed: pip install radicale (the CalDAV test server)")
    folder = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    argv = [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
            "--storage-filesystem-folder", str(folder / "collections"), "--auth-type", "none",
            "--logging-level", "warning"]  # fmt: skip
    log = (folder / "radicale.log").open("wb")
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(STARTUP_TRIES):
            if server.poll() is not None:
                pytest.fail(f"radicale exited with {server.returncode}: {(folder / 'radicale.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("radicale did not open its port")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def read_back(url: str) -> dict[str, icalendar.Component]:
    """UID → component, through a fresh CalDAV client (nothing cached from the push)."""
    client = caldav.DAVClient(url=url, username=USER, password="-", enable_rfc6764=False)
    calendar = client.calendar(url=url)
    found = {}
    for obj in calendar.get_objects(load_objects=True):
        component = obj.icalendar_component
        found[str(component["UID"])] = component
    return found


def test_the_seed_s_tasks_reach_the_server_and_read_back(radicale: str) -> None:
    url = f"{radicale}/{USER}/seed/"
    tasks = seed_tasks()
    data = calendar_bytes(tasks, CalendarOptions(stamp=STAMP))
    report = push(data, open_calendar(url, USER, "-"))
    assert sorted(report.created) == sorted(uid_of(t) for t in tasks)
    assert report.updated == [] and report.stale == []

    stored = read_back(url)
    assert stored.keys() == {uid_of(t) for t in tasks}
    (deadline,) = [t for t in tasks if t.due == "2024-11-20"]
    todo = stored[uid_of(deadline)]
    assert todo.name == "VTODO"
    assert todo["DUE"].dt == date(2024, 11, 20)
    assert "张书毓" in str(todo["DESCRIPTION"]) and "0351-6387015、15972913611" in str(todo["CONTACT"])
    assert PROVINCE in str(todo["DESCRIPTION"])
    assert len(todo.walk("VALARM")) == 2
    yearly = [stored[uid_of(t)] for t in tasks if t.kind == "recurring"]
    assert len(yearly) == 2
    assert all(c["RRULE"]["FREQ"] == ["YEARLY"] and c["DUE"].dt == date(2024, 12, 31) for c in yearly)


def test_a_second_push_updates_instead_of_duplicating(radicale: str) -> None:
    url = f"{radicale}/{USER}/again/"
    tasks = seed_tasks()
    calendar = open_calendar(url, USER, "-")
    push(calendar_bytes(tasks, CalendarOptions(stamp=STAMP)), calendar)
    # the same tasks again, exported later with other reminders
    again = push(calendar_bytes(tasks, CalendarOptions(stamp=STAMP.replace(month=12), reminders=(7,))), calendar)
    assert again.created == []
    assert sorted(again.updated) == sorted(uid_of(t) for t in tasks)
    stored = read_back(url)
    assert len(stored) == len(tasks)
    (deadline,) = [t for t in tasks if t.due == "2024-11-20"]
    todo = stored[uid_of(deadline)]
    assert [str(a["TRIGGER"].to_ical(), "ascii") for a in todo.walk("VALARM")] == ["-P6DT15H"]
    assert todo["DTSTAMP"].dt == STAMP.replace(month=12)


def test_an_object_another_client_stored_under_its_own_name_is_replaced(radicale: str) -> None:
    url = f"{radicale}/{USER}/imported/"
    task = make_task(due="2024-12-01", action="报送总结")
    calendar = open_calendar(url, USER, "-")
    (resource,) = resources(calendar_bytes([task], CalendarOptions(stamp=STAMP)))
    # as Thunderbird would after importing our .ics: same UID, its own resource name
    elsewhere = f"{url}thunderbird-0001.ics"
    caldav.Todo(client=calendar.client, url=elsewhere, parent=calendar).save(raw_data=resource.data)
    moved = make_task(due="2024-12-05", action="报送总结", id=task.id)
    report = push(calendar_bytes([moved], CalendarOptions(stamp=STAMP)), calendar)
    assert report.updated == [uid_of(task)]
    stored = read_back(url)
    assert list(stored) == [uid_of(task)]
    assert stored[uid_of(task)]["DUE"].dt == date(2024, 12, 5)


def test_tasks_no_longer_derived_are_reported_not_deleted(radicale: str) -> None:
    url = f"{radicale}/{USER}/stale/"
    old, kept = make_task(id="old", due="2024-12-01"), make_task(id="kept", due="2024-12-02")
    calendar = open_calendar(url, USER, "-")
    push(calendar_bytes([old, kept], CalendarOptions(stamp=STAMP)), calendar)
    report = push(calendar_bytes([kept], CalendarOptions(stamp=STAMP)), calendar)
    assert report.stale == [uid_of(old)]
    assert set(read_back(url)) == {uid_of(old), uid_of(kept)}


def test_the_command_exports_and_pushes(radicale: str, tmp_path: Path) -> None:
    parsed, _ = parse_file(SEED)
    seed_json = tmp_path / "seed.json"
    seed_json.write_text(json.dumps(parsed.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
    url = f"{radicale}/{USER}/cli/"
    argv = ["deadlines", "-i", str(seed_json), "--ics", str(tmp_path / "d.ics"), "--caldav", url, "--user", USER,
            "--password", "-"]  # fmt: skip
    first = CliRunner().invoke(app, argv)
    assert first.exit_code == 0, first.output
    assert "4 created, 0 updated" in " ".join(first.stderr.split())
    second = CliRunner().invoke(app, argv)
    assert "0 created, 4 updated" in " ".join(second.stderr.split())
    assert len(read_back(url)) == 4


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(CalendarError, match="CalDAV server http://127.0.0.1:9/x/: reading the calendar failed"):
        open_calendar(f"http://127.0.0.1:{9}/x/")


def test_resources_hold_one_uid_each_with_the_timezones_they_use() -> None:
    timed, allday = make_task(id="a", due="2024-09-29T17:00"), make_task(id="b", due="2024-12-01")
    split = {r.uid: r for r in resources(calendar_bytes([timed, allday], CalendarOptions(stamp=STAMP)))}
    assert set(split) == {"gongwen-a", "gongwen-b"}
    assert b"BEGIN:VTIMEZONE" in split["gongwen-a"].data and b"VTIMEZONE" not in split["gongwen-b"].data
    assert all(
        r.kind == "VTODO" and r.data.count(b"BEGIN:VTODO") == 1 and b"METHOD" not in r.data for r in split.values()
    )
