"""A real browser for the pages: a headless Chromium or Chrome driven by Selenium, with
every host name unresolvable, so a page that needs the network shows it as a console error.

Browser and driver are found as Selenium finds them: on PATH (Debian's chromium and
chromedriver, installed by scripts/setup.sh, or Chrome's own names), else by Selenium
Manager, offline (it looks in the usual places and its cache, and downloads nothing)."""
import os
import shutil
import time
from contextlib import contextmanager

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,1600"]


@contextmanager
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found:
        opts.binary_location = found
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver):
    """What the page wrote to the console as an error, or what failed to load."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def outside_refs(driver):
    """Every src/href of the page (SVG's xlink:href too) that points off the page's folder."""
    refs = driver.execute_script(
        "return Array.from(document.querySelectorAll('*')).flatMap(e => ['src', 'href', 'xlink:href']"
        ".map(a => e.getAttribute(a)).filter(Boolean))")
    return [r for r in refs if "//" in r or r.startswith("/")]


def until(what, seconds, step=0.2):
    """what() once it is truthy, polled every `step` for at most `seconds`: a page updates
    when it updates, and one that never does fails the test instead of hanging it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(step)
    return what()


def foreign_loads(driver):
    """What the served page referred to or loaded from another origin than its own (every
    src/href, and every resource the browser fetched, WebSockets aside)."""
    return driver.execute_script(
        "const refs = Array.from(document.querySelectorAll('*')).flatMap(e => ['src', 'href', 'xlink:href']"
        ".map(a => e.getAttribute(a)).filter(Boolean)).map(r => new URL(r, location.href).href);"
        "const loaded = performance.getEntriesByType('resource').map(e => e.name);"
        "return refs.concat(loaded).filter(u => new URL(u).origin !== location.origin);")
