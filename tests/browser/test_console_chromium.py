"""The console in a real browser: Debian's chromium + chromium-driver, driven by selenium.

A live uvicorn server (own thread, own event loop) serves the app on the test database.
Screenshots of every page go to HOTLINE_SCREENSHOT_DIR (default: a temporary folder); the
path is printed, and .ci/run prints it too.
"""

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from app.config import Settings
from app.main import create_app
from tests.conftest import create_ticket
from tests.console.conftest import PASSWORDS

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOTLINE_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
    "--lang=vi",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_url(settings: Settings) -> Iterator[str]:
    # HOTLINE_LIVE_PORT pins the port (a shared machine's assigned range); else a free one.
    port = int(os.environ.get("HOTLINE_LIVE_PORT") or 0) or _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = Path(
        os.environ.get("HOTLINE_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="hotline-console-")
    )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    # A fixed driver path: Selenium Manager never looks for (or downloads) a browser.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(driver: webdriver.Chrome, base: str, username: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/console/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[username])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)


def _wait(driver: webdriver.Chrome, css: str) -> Any:
    return WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def _wait_text(driver: webdriver.Chrome, css: str, text: str) -> None:
    """Wait until the element shows `text`, across page loads (stale elements retried)."""
    WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: text in d.find_element(By.CSS_SELECTOR, css).text
    )


async def test_operator_files_agent_resolves_supervisor_checks_the_numbers(
    client, auth, live_url, shots, chrome
):
    driver, base = chrome, live_url
    # The same caller called last week about Ba Đình: the form shows it as it fills.
    earlier = await create_ticket(
        client, area="phuong-ba-dinh", description="Rác ùn ứ trước số 3 Kim Mã"
    )
    _sign_in(driver, base, "operator")
    driver.get(f"{base}/console/intake")
    driver.save_screenshot(str(shots / "01-intake.png"))
    driver.find_element(By.ID, "phone").send_keys("0912 345 678")
    _wait(driver, "#phone-e164 strong")
    assert driver.find_element(By.ID, "phone-e164").text.endswith("+84912345678")
    _wait_text(driver, "#caller-history", earlier["reference"])
    assert _wait(driver, "#calls-30").text == "1"
    _wait_text(driver, "#similar", earlier["reference"])  # same caller within 30 days
    driver.find_element(By.ID, "name").send_keys("Nguyễn Văn An")
    driver.find_element(By.ID, "area").send_keys("Cau Giay")
    _wait(driver, "#area-choices input[name=area_code]")
    driver.find_element(By.CSS_SELECTOR, "#area-choices input[value=phuong-cau-giay]").click()
    driver.find_element(By.CSS_SELECTOR, "#topic option[value='moi-truong.rac-thai']").click()
    driver.find_element(By.ID, "description").send_keys("Rác ùn ứ đầu ngõ 25 Trần Thái Tông")
    driver.find_element(By.ID, "address").send_keys("Ngõ 25 Trần Thái Tông")
    driver.find_element(By.ID, "callback_requested").click()  # "tell me the outcome"
    driver.save_screenshot(str(shots / "02-intake-filled.png"))
    assert "cùng người gọi" in driver.find_element(By.ID, "similar").text
    driver.find_element(By.ID, "file-ticket").click()
    WebDriverWait(driver, 15).until(lambda d: "/console/tickets/" in d.current_url)
    heading = _wait(driver, "h1").text
    reference = heading.split()[1]
    assert reference.startswith("HN-")
    driver.save_screenshot(str(shots / "03-ticket-operator.png"))

    _sign_in(driver, base, "agent.caugiay")
    driver.get(f"{base}/console/queue")
    first = _wait(driver, "#queue tbody tr a")
    assert first.text == reference
    driver.save_screenshot(str(shots / "04-queue.png"))
    driver.set_window_size(390, 844)
    driver.save_screenshot(str(shots / "04-queue-phone.png"))
    # The page itself fits a phone; only the queue table may scroll sideways inside it.
    header_width = driver.execute_script("return document.querySelector('header').scrollWidth")
    assert header_width <= 390
    driver.set_window_size(1366, 768)
    first = driver.find_element(By.CSS_SELECTOR, "#queue tbody tr a")
    first.click()
    _wait(driver, "#do-acknowledge").click()
    # The old page has a start button too: wait for the new page's heading instead.
    _wait_text(driver, "h1", "Đã tiếp nhận")
    for summary in driver.find_elements(By.TAG_NAME, "summary"):
        if summary.text.startswith("Báo đã giải quyết"):
            summary.click()
    driver.find_element(By.ID, "resolve-resolution").send_keys("Đã thu gom rác")
    driver.find_element(By.ID, "do-resolve").click()
    _wait_text(driver, "h1", "Đã giải quyết")
    driver.save_screenshot(str(shots / "05-ticket-resolved.png"))
    api = await client.get(f"/tickets/{reference}")
    assert api.json()["status"] == "resolved" and api.json()["callback_requested"] is True
    filed_id = api.json()["id"]

    # Another unit's agent cannot open it.
    _sign_in(driver, base, "agent.badinh")
    driver.get(f"{base}/console/tickets/{api.json()['id']}")
    assert "Không thực hiện được" in _wait(driver, "h1").text
    assert reference not in driver.page_source
    driver.save_screenshot(str(shots / "06-other-unit-refused.png"))

    _sign_in(driver, base, "supervisor")
    driver.get(f"{base}/console/dashboard")
    _wait(driver, "#ontime-table")
    _wait(driver, "#worst, #panel-worst p")
    _wait(driver, "#panel-volume .chart svg")
    driver.save_screenshot(str(shots / "07-dashboard.png"))
    report = (await client.get("/reports/sla", headers=auth("supervisor"))).json()
    shown = {
        row.get_attribute("data-unit"): row.find_elements(By.TAG_NAME, "td")
        for row in driver.find_elements(By.CSS_SELECTOR, "#ontime-table tbody tr")
    }
    for row in report["rows"]:
        code = row["group"].get("unit_code")
        if code:
            cells = shown[code]
            assert cells[1].text == str(row["assignments"])
            rate = row["resolve_on_time_rate"]
            expected = "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")
            assert cells[3].text == expected
    driver.get(f"{base}/console/dashboard/late")
    _wait(driver, "h1")
    driver.save_screenshot(str(shots / "08-late-list.png"))

    # A volume row opens the ticket search for exactly the tickets it counts.
    volume = (await client.get("/reports/volume", headers=auth("supervisor"))).json()
    driver.get(f"{base}/console/dashboard")
    _wait(driver, "#panel-volume details summary").click()
    assert _wait(driver, "#volume-total").text == str(volume["total"])
    link = _wait(driver, "#volume-table tbody tr a")
    assert int(link.text) == volume["rows"][0]["tickets"]
    link.click()
    WebDriverWait(driver, 15).until(lambda d: "/console/search" in d.current_url)
    rows = _wait(driver, "#results tbody").find_elements(By.CSS_SELECTOR, "tr a")
    assert len(rows) == volume["rows"][0]["tickets"]
    driver.save_screenshot(str(shots / "08b-volume-drilldown.png"))
    # A backlog cell opens the list of the open assignments it counts.
    driver.get(f"{base}/console/dashboard")
    cell = _wait(driver, "#backlog td a")
    count = cell.text
    cell.click()
    assert _wait(driver, "#backlog-total").text == count
    assert len(driver.find_elements(By.CSS_SELECTOR, "#backlog-list tbody tr a")) == int(count)
    driver.save_screenshot(str(shots / "08c-backlog-drilldown.png"))

    _sign_in(driver, base, "operator")
    driver.get(f"{base}/console/search?q={reference}")
    assert _wait(driver, "#results tbody tr a").text == reference
    driver.save_screenshot(str(shots / "09-search.png"))
    # The Ba Đình ticket is resolved and the caller says "not fixed": a callback is owed.
    badinh = auth("agent.badinh")
    await client.post(
        f"/tickets/{earlier['id']}/resolve", json={"resolution": "Đã thu gom"}, headers=badinh
    )
    answer = await client.post(f"/tickets/{earlier['id']}/feedback", json={"fixed": "no"})
    assert answer.status_code == 200, answer.text
    driver.get(f"{base}/console/callbacks")
    _wait_text(driver, "#callbacks", earlier["reference"])
    assert _wait(driver, "#callbacks tr[data-kind=not_fixed]")
    # The form's caller asked to be told the outcome: owed a call since the resolution.
    assert reference in _wait(driver, "#callbacks tr[data-kind=outcome_requested]").text
    driver.save_screenshot(str(shots / "10-callbacks.png"))
    driver.find_element(By.ID, f"note-{filed_id}-outcome_requested").send_keys("Đã báo ông An")
    driver.find_element(By.ID, f"informed-{filed_id}-outcome_requested").click()
    WebDriverWait(driver, 15).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "tr[data-kind=outcome_requested]")
    )
    assert earlier["reference"] in driver.find_element(By.ID, "callbacks").text

    _sign_in(driver, base, "admin")
    driver.get(f"{base}/console/admin")
    _wait(driver, "#rules")
    driver.save_screenshot(str(shots / "11-admin.png"))
