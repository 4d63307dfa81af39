"""Every page of every role, on a desktop and on two phones: no serious or critical axe-core
violation, nothing wider than the screen, chart text readable; and on a phone the manager's tips
start on the first screen. Plus the chart palette's contrast, which needs no browser.

The browser walk is built to be quick: one live server and one demo chain for the whole module,
one browser per role that logs in once, and each page loaded once and measured at every size by
resizing the window. The pages are listed by URL name, and a test fails when a named page of the
app has no entry here, so a new page cannot be forgotten.
"""

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import URLPattern, URLResolver, reverse

from scoring import charts

from .conftest import build_chain, headless_chromium

# axe-selenium-python bundles axe-core 3.1; AXE_SCRIPT may name a newer axe.min.js (npm's
# axe-core package) to run instead.
AXE_SCRIPT = os.environ.get("AXE_SCRIPT")
SIZES = {"desktop": (1366, 900), "phone-360": (360, 780), "phone-390": (390, 844)}
SERIOUS = {"serious", "critical"}
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USERS = {"manager": "manager.s001", "lead": "lead.north", "trainer": "trainer", "admin": "admin"}


def _first(model, **filters) -> int:
    return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[0]


def _plan() -> dict:
    from coaching.models import WeeklyPlan

    return {"pk": _first(WeeklyPlan, store__code="S001")}


def _goal() -> dict:
    from coaching.models import Goal

    return {"pk": _first(Goal, store__code="S001", status="active")}


def _module() -> dict:
    from coaching.models import TrainingModule

    return {"slug": TrainingModule.objects.filter(status="published").order_by("pk")[0].slug}


def _studio_module() -> dict:
    from coaching.models import TrainingModule

    return {"pk": _first(TrainingModule)}


def _link() -> dict:
    from scoring.models import Store
    from scoring.pulse import services as pulse

    return {"token": pulse.link_for(Store.objects.get(code="S001"), "customer").token}


def _kiosk() -> dict:
    from scoring.models import Store
    from scoring.pulse import services as pulse

    return {"key": pulse.add_device(Store.objects.get(code="S001"), name="Till")[1]}


def _reset_link() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = get_user_model().objects.get(username="manager.s001")
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


S001 = {"code": "S001"}
NORTH = {"code": "north"}

# The pages people open, by URL name: (role, how to find the URL's arguments, query string).
# "anonymous" is a visitor who is not signed in.
Entry = tuple[str, Callable[[], dict] | dict, str]
PAGES: dict[str, list[Entry]] = {
    "login": [("anonymous", {}, "")],
    "password_reset": [("anonymous", {}, "")],
    "password_reset_done": [("anonymous", {}, "")],
    "password_reset_confirm": [("anonymous", _reset_link, "")],  # on to the new-password form
    "password_reset_complete": [("anonymous", {}, "")],
    "about": [("manager", {}, ""), ("lead", {}, ""), ("trainer", {}, "")],
    "pulse-answer": [("anonymous", _link, "")],
    "pulse-kiosk": [("anonymous", _kiosk, "")],
    "week": [("manager", {}, "")],
    "goals": [("manager", {}, "")],
    "goal-edit": [("manager", _goal, "")],
    "goal-drop": [("manager", _goal, "")],  # the "drop this goal?" confirmation
    "plans": [("manager", {}, "")],
    "plan": [("manager", _plan, "")],
    "modules": [("manager", {}, ""), ("lead", {}, "")],
    "module": [("manager", _module, "")],  # the module and its quiz
    "store": [("manager", S001, ""), ("lead", S001, "")],
    "settings": [("manager", {}, ""), ("lead", {}, ""), ("trainer", {}, "")],
    "pulse": [("manager", {}, ""), ("lead", {}, "")],  # each lands on their own pulse page
    "pulse-store": [("manager", S001, ""), ("lead", S001, "")],
    "pulse-poster": [("manager", S001, "")],
    "pulse-poster-audience": [("manager", {"code": "S001", "audience": "staff"}, "")],
    "pulse-region": [("lead", NORTH, "")],
    "regions": [("admin", {}, "")],  # a lead of one region is sent on to it
    "region": [("lead", NORTH, "")],
    "import": [("admin", {}, "")],
    "studio": [("trainer", {}, "")],
    "studio-new": [("trainer", {}, "")],
    "studio-edit": [("trainer", _studio_module, "")],
}
# A URL that answers "not found": the 404 page, as a visitor and as a signed-in manager.
EXTRA = [("anonymous", "404", "/no-such-page/"), ("manager", "404", "/no-such-page/")]

# Named URLs that are not pages a person reads, and why.
NOT_PAGES = {
    "home": "redirects to the role's first page",
    "health": "JSON for the load balancer",
    "logout": "POST only",
    "tip-action": "POST only",
    "plan-reply": "POST only (the lead's reply form is on the store page)",
    "store-nudge": "POST only",
    "studio-draft": "POST only",
    "studio-preview": "POST only (the editor's live preview)",
    "studio-transition": "POST only",
    "pulse-rotate": "POST only",
    "pulse-device-add": "POST only",
    "pulse-device-retire": "POST only",
    "region-history-csv": "a CSV download",
    "region-impact-csv": "a CSV download",
}


def named_urls(patterns=None, prefix: str = "") -> set[str]:
    """The names of the app's URLs: not the API (its own tests) nor Django's admin."""
    if patterns is None:
        from config.urls import urlpatterns as patterns
    names = set()
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("api/", "admin/")):
            continue
        if isinstance(entry, URLResolver):
            names |= named_urls(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(entry.name)
    return names


def test_every_named_page_is_walked_or_said_not_to_be_a_page():
    names = named_urls()
    assert sorted(names - PAGES.keys() - NOT_PAGES.keys()) == [], "add the page to PAGES"
    assert sorted((PAGES.keys() | NOT_PAGES.keys()) - names) == [], "a page that is gone"


# -- Colour contrast (WCAG 2.x relative luminance) -----------------------------------------------


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, two: str) -> float:
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_helper_matches_the_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_chart_graphics_stand_out_3_to_1_and_chart_text_4_5_to_1():
    palette = charts.PALETTE
    grounds = {"card": palette["card"], "track": palette["track"]}
    for name in ("band-high", "band-mid", "band-low", "band-none"):
        for ground, colour in grounds.items():
            assert contrast(palette[name], colour) >= 3, (name, ground)
    # The chain-median tick: against its white halo, which it carries over bar and track alike.
    assert contrast(palette["tick"], palette["card"]) >= 3
    for name in ("series-0", "series-1", "series-2", "target"):
        assert contrast(palette[name], palette["card"]) >= 3, name
    for name in ("text", "muted", "target"):  # labels, axis labels, a goal's label
        assert contrast(palette[name], palette["card"]) >= 4.5, name


def test_the_stylesheet_paints_charts_with_the_same_palette():
    """CSS classes win over the SVG's presentation attributes, so app.css must agree."""
    css = (Path(settings.BASE_DIR) / "scoring/static/ror/app.css").read_text(encoding="utf-8")
    for selector, colour in [
        (r"\.bar-track", charts.PALETTE["track"]),
        (r"\.bar\.band-high", charts.PALETTE["band-high"]),
        (r"\.bar\.band-mid", charts.PALETTE["band-mid"]),
        (r"\.bar\.band-low", charts.PALETTE["band-low"]),
        (r"\.bar\.band-none", charts.PALETTE["band-none"]),
        (r"\.series-0", charts.PALETTE["series-0"]),
        (r"\.series-1", charts.PALETTE["series-1"]),
        (r"\.series-2", charts.PALETTE["series-2"]),
    ]:
        found = re.findall(selector + r"\s*\{\s*(?:fill|stroke)\s*:\s*(#[0-9a-fA-F]{6})", css)
        assert found and {c.lower() for c in found} == {colour}, selector


# -- The browser walk ----------------------------------------------------------------------------


# Chart text smaller than 12 CSS pixels once the SVG is scaled to its box.
SMALL_CHART_TEXT = """
return [...document.querySelectorAll('svg text')].map(t => {
  const svg = t.ownerSVGElement, box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
  if (!box.width) return null;
  const scale = vb && vb.width ? Math.min(box.width / vb.width, box.height / vb.height) : 1;
  const size = parseFloat(getComputedStyle(t).fontSize) * scale;
  return size < 11.95 ? `${t.textContent}: ${size.toFixed(1)}px` : null;
}).filter(Boolean);
"""


# The elements that stick out of the window where their parent does not: the culprits.
STICKING_OUT = """
const inner = window.innerWidth, out = [];
for (const el of document.body.querySelectorAll('*')) {
  const right = el.getBoundingClientRect().right, parent = el.parentElement;
  if (right > inner + 0.5 && parent.getBoundingClientRect().right <= inner + 0.5)
    out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (${Math.round(right)} px)`);
}
return out.slice(0, 4);
"""


class Site:
    def __init__(self, url: str, paths: dict[tuple[str, str], str]):
        self.url, self.paths = url, paths


def _restore_migrated_data() -> None:
    """Back to the state after migrations (the seed's categories and groups), as a transactional
    test with serialized_rollback leaves it."""
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


def _on_the_test_database() -> bool:
    name = str(connection.settings_dict["NAME"])
    return "memorydb" in name or Path(name).name.startswith("test_")


@pytest.fixture(scope="module")
def site(request, django_db_setup, django_db_blocker):
    """One demo chain and one live server for the module: the pages only read.

    The tests ask for no per-test database (a transactional test would flush the chain after
    each page), so this fixture owns the database: it creates the test database itself when no
    other selected test did, and leaves it as migrations left it.
    """
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        created = None
        if not _on_the_test_database():
            created = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, serialized_aliases={"default"}
            )
        assert _on_the_test_database(), connection.settings_dict["NAME"]
        if getattr(connection, "_test_serialized_contents", None):
            _restore_migrated_data()  # an earlier transactional test may have flushed it
        else:
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()
        # The hasher every test signs in with (tests/conftest.py `_fast_passwords`).
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            build_chain()
        paths = {}
        for name, entries in PAGES.items():
            for role, arguments, query in entries:
                kwargs = arguments() if callable(arguments) else arguments
                paths[role, name] = reverse(name, kwargs=kwargs) + query
        for role, name, path in EXTRA:
            paths[role, name] = path
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield Site(server.url, paths)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            _restore_migrated_data()
            if created is not None:
                teardown_databases(created, verbosity=0)


@pytest.fixture(scope="module")
def browsers(site):
    """One headless Chromium per role, logged in once, opened when its first page comes up."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from scoring.demo import DEMO_PASSWORD

    opened = {}

    def browser(role: str):
        if role in opened:
            return opened[role]
        driver = headless_chromium(width=1366, height=900, flags=("--hide-scrollbars",))
        opened[role] = driver
        if role != "anonymous":
            driver.get(f"{site.url}/accounts/login/")
            driver.find_element(By.NAME, "username").send_keys(USERS[role])
            driver.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
            WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.TAG_NAME, "nav")))
        return driver

    yield browser
    for driver in opened.values():
        driver.quit()


def measure(driver, width: int, height: int) -> list[str]:
    """What is wrong with the open page at this window size."""
    from axe_selenium_python import Axe

    driver.set_window_size(width, height)
    inner = driver.execute_script("return window.innerWidth")
    assert inner == width, f"the window is {inner} px wide, not {width}"
    problems = []
    wide = driver.execute_script("return document.documentElement.scrollWidth")
    if wide > inner:
        culprits = driver.execute_script(STICKING_OUT)
        problems.append(f"{wide} px wide in a {inner} px window: {culprits}")
    problems += [f"chart text {t}" for t in driver.execute_script(SMALL_CHART_TEXT)]
    axe = Axe(driver, **({"script_url": AXE_SCRIPT} if AXE_SCRIPT else {}))
    axe.inject()
    options = None  # Axe.run pastes it into the script: JSON, not a dict
    if driver.execute_script("return axe.version").startswith(("2.", "3.")):
        # axe-core 3's `radiogroup` (removed in 4.0) groups radios by name across the whole
        # page, so each tip's own dismiss form, a fieldset with a legend, counts as an error.
        options = json.dumps({"rules": {"radiogroup": {"enabled": False}}})
    for violation in axe.run(options=options)["violations"]:
        if violation["impact"] in SERIOUS:
            nodes = [n["html"][:160] for n in violation["nodes"]][:3]
            problems.append(f"axe {violation['id']} ({violation['impact']}): {nodes}")
    return problems


WALK = [(role, name) for name, entries in PAGES.items() for role, _, _ in entries]
WALK += [(role, name) for role, name, _ in EXTRA]
WALK.sort(key=lambda item: list(USERS).index(item[0]) if item[0] in USERS else -1)


@pytest.mark.browser
@pytest.mark.parametrize(("role", "name"), WALK, ids=[f"{r}:{n}" for r, n in WALK])
def test_every_page_is_accessible_and_fits_desktops_and_phones(site, browsers, role, name):
    driver = browsers(role)
    driver.set_window_size(*SIZES["desktop"])
    driver.get(site.url + site.paths[role, name])
    title = driver.title
    if name != "404":
        assert not re.search(r"Not found|Forbidden|Server error", title), title
    problems = {size: measure(driver, *wh) for size, wh in SIZES.items()}
    blocked = [
        e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]
    ]
    assert {size: p for size, p in problems.items() if p} == {}
    assert blocked == []


@pytest.mark.browser
def test_on_a_phone_the_weeks_tips_start_on_the_first_screen(site, browsers):
    driver = browsers("manager")
    driver.set_window_size(390, 844)
    driver.get(site.url + site.paths["manager", "week"])
    top = driver.execute_script(
        "return document.querySelector('article.tip').getBoundingClientRect().top + scrollY"
    )
    assert top < 844, top
    # The first focusable element skips to the page's content.
    skip = driver.execute_script(
        "return document.querySelector('a[href], button, input, select, textarea')"
    )
    assert skip.get_attribute("href").endswith("#content")
    assert driver.execute_script("return document.querySelector('main').id") == "content"
