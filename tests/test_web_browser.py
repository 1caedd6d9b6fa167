"""The desk end to end in Debian's headless Chromium, driven by Selenium through /usr/bin/chromedriver.

A clerk's morning: upload the seed scan, see its two notices in the register, open the city
notice, see its 文号's box drawn on page 1, correct a field and find the correction still there
after `reparse`, mark a task 办结, download the .ics. The server listens on 127.0.0.1 only;
the browser is started with everything that phones home turned off and a fresh profile.
No browser is ever downloaded: without Debian's chromium and chromium-driver the test skips.

Screenshots of the register and the document view go to a temporary folder, or to docs/
(register.png, document.png, shown in the README) with GONGWEN_DOCS_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import ingest

from pipeline import store
from pipeline.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SCAN = ROOT / "fixtures" / "scans" / "seed.pdf"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WAIT = 900  # seconds a wait may last at most: a safety net for a stuck run, not a speed requirement

pytestmark = [
    pytest.mark.live,  # OCRs the seed scan with the real engine
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The desk on 127.0.0.1 at a free port, in a thread; its base URL and database."""
    import uvicorn

    db = tmp_path / "notices.db"
    app = create_app(db, ingest_options=ingest.Options(quarantine=ingest.quarantine_folder(db), workers=1))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def screenshots_folder(tmp_path: Path) -> Path:
    folder = ROOT / "docs" if os.environ.get("GONGWEN_DOCS_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    return folder


def test_a_clerks_morning_in_chromium(server: tuple[str, Path], browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    base, db = server
    driver = browser
    wait = WebDriverWait(driver, WAIT)
    shots = screenshots_folder(tmp_path)

    # upload the seed scan; the page's script posts it and goes to the job's page
    driver.get(f"{base}/upload")
    driver.find_element(By.ID, "files").send_keys(str(SCAN))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    wait.until(ec.url_contains("/uploads/"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.job[data-state=finished], section.job[data-state=failed]")))
    assert driver.find_element(By.CSS_SELECTOR, "section.job").get_attribute("data-state") == "finished"
    assert "seed.pdf" in driver.find_element(By.CSS_SELECTOR, "table.outcomes").text

    # the register: both notices of the scan
    driver.get(base + "/")
    register = driver.find_element(By.TAG_NAME, "main").text
    assert "临市民函〔2024〕89号" in register and "晋民函〔2024〕169号" in register
    driver.save_screenshot(str(shots / "register.png"))

    # the city notice, and its 文号's box on page 1
    row = driver.find_element(By.XPATH, "//tr[td[contains(., '临市民函〔2024〕89号')]]")
    row.find_element(By.CSS_SELECTOR, "td.title a").click()
    wait.until(ec.presence_of_element_located((By.ID, "fields")))
    driver.find_element(By.CSS_SELECTOR, "a.where[data-field=doc_number]").click()
    box = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#page-1 rect.box.selected[data-field=doc_number]")))
    assert box.size["width"] > 0 and box.size["height"] > 0
    assert driver.find_element(By.ID, "mark").text == "临市民函〔2024〕89号"
    wait.until(lambda d: d.execute_script("const i = document.querySelector('#page-1 image'); return i && i.getBBox().width > 0"))
    driver.execute_script("window.scrollTo(0, 0); document.querySelector('.pages').scrollTop = 0")
    driver.save_screenshot(str(shots / "document.png"))
    document_url = driver.current_url.split("?")[0]

    # correct 成文日期 (the seal covers it on the scan)
    row = driver.find_element(By.ID, "field-issue_date")
    row.find_element(By.TAG_NAME, "summary").click()
    row.find_element(By.NAME, "value:issue_date").send_keys("2024年10月25日")
    row.find_element(By.NAME, "note").send_keys("印章遮挡，按原件补录")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#field-issue_date .value"), "2024-10-25"))

    # reparse, as `gongwen reparse --all` does, and the correction is still there
    conn = store.connect(db, create=False)
    try:
        assert all(o.status in store.STORED for o in ingest.reparse(conn, None))
    finally:
        conn.close()
    driver.get(document_url)
    corrected = driver.find_element(By.ID, "field-issue_date")
    assert "2024-10-25" in corrected.find_element(By.CSS_SELECTOR, ".value").text
    assert "人工更正" in corrected.text and "印章遮挡" in corrected.text

    # 办结 the first task
    task = driver.find_element(By.CSS_SELECTOR, "li.task")
    task_id = task.get_attribute("data-task")
    task.find_element(By.NAME, "note").send_keys("已报送")
    task.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"li.task.done[data-task='{task_id}']")))

    # the .ics from the deadlines page
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.get(f"{base}/deadlines")
    driver.find_element(By.ID, "ics-download").click()
    wait.until(lambda _: (downloads / "gongwen-deadlines.ics").exists())
    data = (downloads / "gongwen-deadlines.ics").read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR") and f"gongwen-{task_id}".encode() in data and b"STATUS:COMPLETED" in data

