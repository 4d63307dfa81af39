import io
import shutil

import pytest
from django.core.management import call_command

from coaching.demo import create_demo_goals, create_demo_history, load_demo_modules

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def headless_chromium(*, width: int, height: int, flags: tuple[str, ...] = ()):
    """Debian's Chromium under Selenium, quiet (no updates, sync or first-run pages) and keeping
    its console log, which the tests read for Content-Security-Policy reports."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        *flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))


def build_chain(stores: int = 6, weeks: int = 26) -> None:
    """A small demo chain: scores, people, modules, goals, coaching history and this week's plans."""
    out = io.StringIO()
    call_command("demo", stores=stores, weeks=weeks, stdout=out)
    load_demo_modules()
    create_demo_goals()
    create_demo_history()
    call_command("generate_coaching", stdout=out)


@pytest.fixture
def chain(db):
    build_chain()
