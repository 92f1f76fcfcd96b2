"""Drives the snaprock console in a real headless Chromium (Selenium with the distribution's
chromedriver): without a login the console is not shown; with a wrong password neither; logged in
it shows a finished job in the history and its snapshot under its repository, and a running job
whose progress bar moves. Optionally saves a screenshot.

Usage: console_check.py URL USER PASSWORD FINISHED_SNAPSHOT RUNNING_DATABASE [SCREENSHOT]
Prints "N passed, 0 failed" at the end; exits non-zero on the first failed check.
"""

import base64
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

url, user, password, finished, running_db = sys.argv[1:6]
screenshot = sys.argv[6] if len(sys.argv) > 6 else None
passed = 0


def check(condition, what):
    global passed
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    passed += 1


def wait_for(what, probe, limit=60.0):
    """Polls probe() until it returns something truthy; fails after `limit` seconds."""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception:  # the page is being redrawn
            pass
        time.sleep(0.1)
    print(f"FAILED: timed out waiting for {what}")
    print(driver.page_source[:4000])
    sys.exit(1)


def login_header(name, secret):
    token = base64.b64encode(f"{name}:{secret}".encode()).decode()
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})


options = Options()
options.add_argument("--headless=new")
options.add_argument("--no-sandbox")
options.add_argument("--disable-dev-shm-usage")
options.add_argument("--window-size=1360,1500")
for binary in ("chromium", "chromium-browser", "google-chrome"):
    if shutil.which(binary):
        options.binary_location = shutil.which(binary)
        break
service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
driver = webdriver.Chrome(service=service, options=options)
try:
    driver.execute_cdp_cmd("Network.enable", {})

    # No login: the server answers 401 and no console.
    driver.get(url)
    time.sleep(0.5)
    check("Job history" not in driver.page_source, "the console is shown without a login")

    login_header(user, "not-the-password")
    driver.get(url)
    time.sleep(0.5)
    check("Job history" not in driver.page_source, "the console is shown with a wrong password")

    login_header(user, password)
    driver.get(url)
    wait_for("the console page", lambda: driver.title == "snaprock console")
    who = wait_for("the logged-in account", lambda: driver.find_element(By.ID, "user").text)
    check(who == f"'{user}'@'%'", f"logged in as {who}")

    row = wait_for(
        "the finished job in the history",
        lambda: driver.find_element(By.CSS_SELECTOR, f'#history tbody tr[data-snapshot="{finished}"]'),
    )
    check("FINISHED" in row.text and "BACKUP" in row.text, f"history row: {row.text}")

    snapshot = wait_for(
        "the snapshot under its repository",
        lambda: driver.find_element(By.CSS_SELECTOR, f'table.snapshots tr[data-snapshot="{finished}"]'),
    )
    check(finished in snapshot.text, f"snapshot row: {snapshot.text}")
    check(
        len(driver.find_elements(By.CSS_SELECTOR, "#chart-size circle")) >= 1,
        "the size chart shows the finished backup",
    )

    selector = f'#running .job[data-database="{running_db}"] [role="progressbar"]'
    bar = wait_for("the running job's progress bar", lambda: driver.find_element(By.CSS_SELECTOR, selector))
    first = int(bar.get_attribute("aria-valuenow"))
    total = int(bar.get_attribute("aria-valuemax"))
    check(total > 0, "the running job has bytes to move")
    moved = wait_for(
        "the progress bar to move",
        lambda: (lambda v: v if v > first else None)(
            int(driver.find_element(By.CSS_SELECTOR, selector).get_attribute("aria-valuenow"))
        ),
    )
    width = driver.find_element(By.CSS_SELECTOR, selector + " .fill").value_of_css_property("width")
    check(moved > first and not width.startswith("0"), f"the bar moved from {first} to {moved} ({width})")
    figures = driver.find_element(By.CSS_SELECTOR, f'#running .job[data-database="{running_db}"] .figures').text
    check("/s" in figures and "ETA" in figures, f"rate and ETA shown: {figures}")

    if screenshot:
        driver.save_screenshot(screenshot)
    print(f"{passed} passed, 0 failed")
finally:
    driver.quit()
