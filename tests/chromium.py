"""One way to start the headless Chromium the site tests drive (Debian's chromium and
chromium-driver, through Selenium), with browser and network logs kept."""

from __future__ import annotations

import shutil

import claimcheck

BINARY = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = ("" if BINARY and DRIVER else
           "needs Debian's chromium and chromium-driver (make setup installs them "
           "as root)")


def start(window: str = "1280,1600"):
    """A headless Chromium; skips (fails under CI) where it is not installed."""
    if MISSING:
        claimcheck.unavailable(MISSING, "CI installs chromium (make setup)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BINARY
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--window-size={window}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL",
                                                 "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver
