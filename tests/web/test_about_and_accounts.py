"""The about page explains the numbers from the data and the charts' own constants; a forgotten
password is reset by email without telling anyone which accounts exist; unknown pages and
errors get plain, friendly pages, in the demo too."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from coaching.management.commands import quickstart
from scoring import charts
from scoring.about import score_guide
from scoring.models import Category, Role

from ..factories import UserFactory, user_with_role
from .test_pages import assert_valid_html

User = get_user_model()
ANCHORS = ["ror", "categories", "bands", "median", "confidence", "good", "focus", "at-risk"]
SHARE = re.compile(r'<td class="num share">([\d.]+)%</td>')


def shares(response) -> list[float]:
    return [float(value) for value in SHARE.findall(response.content.decode())]


# --- About your scores ------------------------------------------------------------------------


def test_the_about_page_asks_for_a_login(client):
    response = client.get("/about/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/about/")


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.TRAINER])
def test_every_role_reads_the_about_page_with_all_its_sections(db, client, role):
    client.force_login(user_with_role(role))
    response = client.get("/about/")
    assert response.status_code == 200
    assert_valid_html(response)
    html = response.content.decode()
    for anchor in ANCHORS:
        assert f'id="{anchor}"' in html and f'href="#{anchor}"' in html, anchor
    assert "Return on Relationships" in html


def test_the_categories_come_from_the_database_with_their_share_of_ror(db, client):
    client.force_login(user_with_role(Role.STORE_MANAGER))
    categories = list(Category.objects.filter(active=True))
    assert len(categories) == 8
    response = client.get("/about/")
    assert shares(response) == [12.5] * 8  # eight equal weights
    for category in categories:
        assert category.name in response.content.decode()
        assert category.description in response.content.decode()

    Category.objects.filter(code="customer_satisfaction").update(weight=Decimal("3"))
    Category.objects.filter(code="promotions_roi").update(active=False)
    response = client.get("/about/")
    assert len(shares(response)) == 7
    assert sum(shares(response)) == pytest.approx(100, abs=0.5)  # each shown to one decimal
    assert "Promotions ROI" not in response.content.decode()
    assert sorted(shares(response)) == [11.1] * 6 + [33.3]  # 1/9 and 3/9


def test_the_bands_quoted_are_the_ones_the_charts_colour_by(db, client):
    assert charts.band(charts.BAND_MID - 0.1) == "band-low"
    assert charts.band(charts.BAND_MID) == "band-mid"
    assert charts.band(charts.BAND_HIGH - 0.1) == "band-mid"
    assert charts.band(charts.BAND_HIGH) == "band-high"
    client.force_login(user_with_role(Role.STORE_MANAGER))
    html = client.get("/about/").content.decode()
    bands = html.split('id="bands"', 1)[1].split("</section>", 1)[0]
    assert f'class="band-low">under {charts.BAND_MID}<' in bands
    assert f'class="band-mid">{charts.BAND_MID} to under {charts.BAND_HIGH}<' in bands
    assert f'class="band-high">{charts.BAND_HIGH} and over<' in bands


def test_what_good_looks_like_quotes_the_chains_latest_ror(chain, client):
    guide = score_guide()
    assert guide.chain is not None and guide.chain.stores == 6
    assert guide.chain.median <= guide.chain.top_quartile
    client.force_login(User.objects.get(username="manager.s001"))
    html = client.get("/about/").content.decode()
    good = html.split('id="good"', 1)[1].split("</section>", 1)[0]
    assert f"{guide.chain.median:.1f} or more" in good
    assert f"{guide.chain.top_quartile:.1f} or more" in good
    assert "W" not in re.sub(r"<[^>]+>", "", good).split()  # no ISO week codes
    assert re.search(r"week of \d{1,2} \w+", good)


def test_the_about_link_include_points_at_a_section():
    html = render_to_string("_about_link.html", {"anchor": "bands"})
    assert 'href="/about/#bands"' in html and "What do these numbers mean?" in html
    assert 'href="/about/"' in render_to_string("_about_link.html")


# --- Password reset ---------------------------------------------------------------------------


@pytest.fixture
def sam(db):
    user = UserFactory(username="sam", email="sam@example.com")
    user.save()
    return user


def test_the_login_page_offers_a_password_reset(db, client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in html and "Forgot your password?" in html


def test_a_forgotten_password_is_reset_by_email_and_the_new_one_logs_in(sam, client):
    form = client.get("/accounts/password-reset/")
    assert form.status_code == 200
    assert_valid_html(form)
    sent = client.post("/accounts/password-reset/", {"email": "SAM@example.com"})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["sam@example.com"]
    assert email.subject == "Reset your ROR Coach password"
    assert "Your username is sam." in email.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", email.body).group(1)

    page = client.get(link, follow=True)  # Django swaps the token for a session entry
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    assert_valid_html(page)
    form_url = page.redirect_chain[-1][0]
    new = "a-brand-new-Passphrase-42"
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert "Password changed" in client.get("/accounts/reset/done/").content.decode()

    fresh = Client()
    logged_in = fresh.post("/accounts/login/", {"username": "sam", "password": new})
    assert logged_in.status_code == 302 and logged_in["Location"] == "/"
    # The link works once.
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_email(sam, client):
    known = client.post("/accounts/password-reset/", {"email": "sam@example.com"}, follow=True)
    unknown = Client().post(
        "/accounts/password-reset/", {"email": "nobody@example.com"}, follow=True
    )
    assert len(mail.outbox) == 1  # only the known account's
    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", unknown.content.decode()) == strip.sub("", known.content.decode())


def test_reset_emails_to_one_address_are_capped_and_the_answer_does_not_change(sam, client):
    answers = [
        client.post("/accounts/password-reset/", {"email": "Sam@example.com"}, follow=True)
        for _ in range(5)
    ]
    assert len(mail.outbox) == 3  # RESET_MAILS_PER_HOUR: nobody floods an inbox
    assert {a.redirect_chain[-1][0] for a in answers} == {"/accounts/password-reset/sent/"}


def test_a_reset_password_lifts_the_login_lockout(sam, client):
    for _ in range(5):
        locked = client.post("/accounts/login/", {"username": "sam", "password": "nope"})
    assert locked.status_code == 429
    client.post("/accounts/password-reset/", {"email": "sam@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a-brand-new-Passphrase-42"
    client.post(form_url, {"new_password1": new, "new_password2": new})
    logged_in = client.post("/accounts/login/", {"username": "sam", "password": new})
    assert logged_in.status_code == 302


# --- Error pages ------------------------------------------------------------------------------


def assert_friendly(response, status: int, heading: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert heading in html
    assert 'href="/"' in html  # a way home
    for debug_text in ("Traceback", "Django", "DEBUG", "urlpatterns"):
        assert debug_text not in html


def test_an_unknown_address_gets_the_friendly_404(db, client):
    assert_friendly(client.get("/no-such-page/"), 404, "Not found")
    client.force_login(user_with_role(Role.STORE_MANAGER))
    response = client.get("/no-such-page/")
    assert_friendly(response, 404, "Not found")
    assert_valid_html(response)


def test_another_roles_page_gets_the_friendly_403(db, client):
    client.force_login(user_with_role(Role.TRAINER))
    assert_friendly(client.get("/week/"), 403, "Not allowed")


def test_the_500_page_renders_without_a_request_context_or_the_database():
    # No `db` fixture: any query here would fail the test.
    response = server_error(RequestFactory().get("/"))
    assert_friendly(response, 500, "Something went wrong")
    assert "<!DOCTYPE html>" in response.content.decode()


def test_the_demo_serves_friendly_error_pages_and_its_static_files(db, settings, monkeypatch):
    settings.DEBUG = True  # the laptop mode, as quickstart finds it
    served = {}

    def runserver(name, addrport, **options):
        served.update(name=name, addrport=addrport, debug=settings.DEBUG)

    monkeypatch.setattr(quickstart, "call_command", runserver)
    quickstart.serve("127.0.0.1:8000")
    assert served == {"name": "runserver", "addrport": "127.0.0.1:8000", "debug": False}
    client = Client()  # a new handler, as runserver builds one, with DEBUG now off
    assert_friendly(client.get("/no-such-page/"), 404, "Not found")
    css = client.get("/static/ror/app.css")
    assert css.status_code == 200  # WhiteNoise serves it from the app folders
    assert b"".join(css.streaming_content).startswith(b"/* ROR Coach")


def test_quickstart_debug_keeps_djangos_debug_pages(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(quickstart, "call_command", lambda *args, **kwargs: None)
    quickstart.serve("127.0.0.1:8000", debug=True)
    assert settings.DEBUG is True
