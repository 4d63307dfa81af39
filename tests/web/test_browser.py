"""The main paths in a real browser (headless Chromium driven by Selenium), one per role.

Each walk saves screenshots of the pages it passes; set SCREENSHOT_DIR=docs/screenshots to refresh
the README's pictures. Every walk ends by checking the console: no page it passed broke the
Content-Security-Policy.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from coaching.models import CoachingTip, TrainingModule, WeeklyPlan
from scoring.demo import DEMO_PASSWORD

from .conftest import build_chain, headless_chromium

# The seed migration's categories and groups must survive each test's flush.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser():
    driver = headless_chromium(width=1280, height=1000, flags=("--disable-quic",))
    driver.implicitly_wait(5)
    yield driver
    try:
        assert csp_violations(driver) == []
    finally:
        driver.quit()


def csp_violations(driver) -> list[str]:
    """What the console reported as blocked by the policy since the last call."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(live_server):
    build_chain(stores=12)  # four stores a region: enough for the impact estimate to show
    return live_server.url


def log_in(browser, site: str, username: str) -> None:
    browser.get(f"{site}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "nav")))


def full_page(browser, path: Path) -> None:
    """A screenshot of the whole page, not only the window."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    width = browser.get_window_size()["width"]
    browser.set_window_size(width, min(max(height + 120, 600), 6000))
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def test_manager_reads_the_weeks_coaching_and_marks_a_tip_done(browser, site, shots):
    log_in(browser, site, "manager.s001")
    assert browser.current_url.endswith("/week/")
    assert "coaching for" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg[role=img] title")  # charts, no JS needed
    full_page(browser, shots / "manager-week.png")

    first_tip = browser.find_element(By.CSS_SELECTOR, "article.tip")
    tip_id = int(first_tip.get_attribute("id").removeprefix("tip-"))
    first_tip.find_element(By.XPATH, ".//button[normalize-space()='Mark done']").click()
    WebDriverWait(browser, 10).until(EC.url_contains(f"#tip-{tip_id}"))
    done = browser.find_element(By.ID, f"tip-{tip_id}")
    assert "done" in done.get_attribute("class")
    assert CoachingTip.objects.get(pk=tip_id).done_at is not None
    assert WeeklyPlan.objects.get(tips__pk=tip_id).read_at is not None

    browser.find_element(By.LINK_TEXT, "Goals").click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Goals for")
    full_page(browser, shots / "manager-goals.png")

    browser.set_window_size(390, 844)  # a phone in the back office
    browser.get(f"{site}/week/")
    full_page(browser, shots / "phone-manager-week.png")
    browser.set_window_size(390, 844)
    browser.get(f"{site}/goals/")
    full_page(browser, shots / "phone-manager-goals.png")


def test_lead_opens_the_heatmap_and_a_store_of_the_region(browser, site, shots):
    log_in(browser, site, "lead.north")
    assert browser.current_url.endswith("/regions/north/")
    cells = browser.find_elements(By.CSS_SELECTOR, "table.heatmap tbody td")
    assert len(cells) == 4 * 9  # four stores x (ROR + eight categories)
    assert browser.find_element(By.ID, "impact-h")
    full_page(browser, shots / "lead-region.png")

    first = browser.find_element(By.CSS_SELECTOR, "table.heatmap tbody th a")  # most at risk
    code = first.text
    first.click()
    assert browser.current_url.endswith(f"/stores/{code}/")
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert len(charts) == 8
    full_page(browser, shots / "store-detail.png")

    browser.get(f"{site}/stores/S002/")  # the south's
    assert "Not found" in browser.find_element(By.TAG_NAME, "h1").text


def test_the_lead_reads_a_stores_coaching_and_replies_and_the_manager_sees_it(browser, site, shots):
    plan = WeeklyPlan.objects.filter(store__code="S001").latest("week")
    tip = plan.tips.order_by("order").first()
    log_in(browser, site, "lead.north")
    browser.get(f"{site}/stores/S001/#coaching")
    thread = browser.find_element(By.ID, f"plan-{plan.pk}")
    assert tip.title in thread.text  # the lead reads the tips the manager got
    browser.set_window_size(390, 844)
    full_page(browser, shots / "phone-lead-store.png")
    browser.get(f"{site}/regions/north/")
    full_page(browser, shots / "phone-lead-region.png")
    browser.set_window_size(1280, 1000)

    browser.get(f"{site}/stores/S001/#coaching")
    form = browser.find_element(By.ID, f"plan-{plan.pk}").find_element(By.TAG_NAME, "form")
    form.find_element(By.CSS_SELECTOR, "input[value=recognition]").click()
    form.find_element(By.NAME, "body").send_keys("The Saturday huddle shows: well done")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        EC.text_to_be_present_in_element((By.ID, "coaching"), "The Saturday huddle shows")
    )

    browser.delete_all_cookies()
    log_in(browser, site, "manager.s001")
    banner = browser.find_element(By.CSS_SELECTOR, "a[href='#replies']")
    assert "wrote to you" in banner.text
    replies = browser.find_element(By.ID, "replies")
    assert "The Saturday huddle shows: well done" in replies.text
    assert "Recognition" in replies.text


def test_trainer_drafts_a_module_with_ai_and_publishes_it(browser, site, shots):
    log_in(browser, site, "trainer")
    assert browser.current_url.endswith("/studio/")
    full_page(browser, shots / "trainer-studio.png")

    form = browser.find_element(By.CSS_SELECTOR, "form[action='/studio/draft/']")
    form.find_element(By.NAME, "objective").send_keys("Greet every guest within ten seconds")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(EC.url_matches(r"/studio/\d+/$"))
    module = TrainingModule.objects.get(template_draft=True, status="draft")

    body = browser.find_element(By.CSS_SELECTOR, "textarea[data-preview-url]")
    body.send_keys("\n\n## Live preview check\n\nThis is **bold**.")
    WebDriverWait(browser, 10).until(
        lambda b: "Live preview check" in b.find_element(By.ID, "preview").text
    )
    full_page(browser, shots / "trainer-editor.png")
    # Publishing straight from unsaved edits keeps them: the button saves the form first.
    browser.find_element(By.XPATH, "//button[normalize-space()='Save and publish']").click()
    # The form posts and the page reloads: a lookup may hit the old document as it goes.
    reloading = WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,))
    reloading.until(
        EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Saved and published: managers")
    )
    module.refresh_from_db()
    assert module.status == "published"
    assert "Live preview check" in module.versions.get().body


def test_the_admin_works_under_the_content_security_policy(browser, site):
    get_user_model().objects.create_superuser("root", "root@example.com", DEMO_PASSWORD)
    browser.get(f"{site}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    models = [
        a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, "#content-main th[scope=row] a")
    ]
    assert len(models) >= 20
    for changelist in models:
        browser.get(changelist)
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody th a")
        if rows:
            browser.get(rows[0].get_attribute("href"))
            assert browser.find_elements(By.CSS_SELECTOR, "#content-main form")
        assert csp_violations(browser) == [], changelist

    # The check sees a violation when there is one.
    browser.execute_script(
        "const s = document.createElement('style');"
        "s.textContent = 'body {color: red}'; document.head.appendChild(s);"
    )
    assert any("style-src" in m for m in csp_violations(browser))


def test_a_customer_answers_the_pulse_on_a_phone_and_the_store_score_moves(browser, site, shots):
    from scoring.models import CategoryScore, Source, Store
    from scoring.pulse import services as pulse
    from scoring.pulse.selectors import local_day
    from scoring.weeks import week_start

    store = Store.objects.get(code="S001")
    link = pulse.link_for(store, "customer")
    week = week_start(local_day(store))
    before = CategoryScore.objects.filter(
        store=store, week=week, source=Source.QUESTIONNAIRE
    ).count()

    browser.set_window_size(390, 844)
    browser.get(f"{site}/p/{link.token}/")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    full_page(browser, shots / "pulse-phone.png")
    browser.set_window_size(390, 844)
    for fieldset in browser.find_elements(By.CSS_SELECTOR, "fieldset.pulse-q"):
        choices = fieldset.find_elements(By.CSS_SELECTOR, "label.choice")
        choices[-1].click()  # the best answer on each scale
    browser.find_element(By.NAME, "comment").send_keys("Quick and friendly at the till")
    browser.find_element(By.CSS_SELECTOR, "button.big").click()
    WebDriverWait(browser, 10).until(EC.title_contains("Thank you"))

    scores = CategoryScore.objects.filter(store=store, week=week, source=Source.QUESTIONNAIRE)
    assert scores.count() == before + 4 and {s.score for s in scores} == {100}

    log_in(browser, site, "manager.s001")
    browser.get(f"{site}/pulse/stores/S001/")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "1 customer answer" in page and "Quick and friendly at the till" in page
    full_page(browser, shots / "pulse-manager.png")
