"""A tip's actions on the web, each with a state you can see: done, helpful or not (pressed,
aria-pressed), dismissed with a reason (and restored), and a comment. Plain forms, no script:
each answer redirects back to the tip."""

import re

import pytest

from coaching.models import CoachingTip, WeeklyPlan

from .test_pages import assert_valid_html, login

pytestmark = pytest.mark.usefixtures("chain")


@pytest.fixture
def tip(client) -> CoachingTip:
    login(client, "manager.s001")
    plan = WeeklyPlan.objects.filter(store__code="S001").order_by("-week").first()
    return plan.tips.order_by("order").first()


def _act(client, tip, **data):
    response = client.post(f"/tips/{tip.pk}/feedback/", {"next": "/week/", **data})
    assert response.status_code == 302
    assert response["Location"] == f"/week/#tip-{tip.pk}"
    tip.refresh_from_db()
    return tip


def _article(client, tip) -> str:
    response = client.get("/week/")
    assert_valid_html(response)
    page = response.content.decode()
    return re.search(rf'<article[^>]*id="tip-{tip.pk}".*?</article>', page, re.S).group(0)


def _button(article: str, value: str) -> str:
    return re.search(rf'<button[^>]*value="{value}"[^>]*>', article).group(0)


def test_not_helpful_is_pressed_and_helpful_is_not(client, tip):
    assert _act(client, tip, action="not_helpful").helpful is False
    article = _article(client, tip)
    assert 'aria-pressed="true"' in _button(article, "not_helpful")
    assert "pressed" in _button(article, "not_helpful")
    assert 'aria-pressed="false"' in _button(article, "helpful")

    assert _act(client, tip, action="helpful").helpful is True
    article = _article(client, tip)
    assert 'aria-pressed="true"' in _button(article, "helpful")
    assert 'aria-pressed="false"' in _button(article, "not_helpful")


def test_a_tip_is_dismissed_with_a_reason_shown_and_can_be_restored(client, tip):
    assert _act(client, tip, action="dismiss", reason="no_time").dismissed_reason == "no_time"
    article = _article(client, tip)
    assert "dismissed" in article.split(">")[0]
    assert "Dismissed:</strong> No time this week" in article
    assert 'value="restore"' in article

    assert _act(client, tip, action="restore").dismissed_reason == ""
    article = _article(client, tip)
    assert "Dismissed" not in article and 'value="restore"' not in article


def test_other_reason_keeps_the_managers_words_and_needs_them(client, tip):
    _act(client, tip, action="dismiss", reason="other", other="  ")
    assert tip.dismissed_reason == "", "an empty 'other' reason dismisses nothing"
    _act(client, tip, action="dismiss", reason="other", other="Store closed for works")
    assert tip.dismissed_reason == "Store closed for works"
    assert "Dismissed:</strong> Store closed for works" in _article(client, tip)
    _act(client, tip, action="dismiss", reason="made-up")
    assert tip.dismissed_reason == "Store closed for works"


def test_a_comment_is_shown_after_saving_and_can_be_edited(client, tip):
    _act(client, tip, action="comment", comment="Tried it on Tuesday, the team liked it")
    article = _article(client, tip)
    assert "Comment:</strong> Tried it on Tuesday, the team liked it" in article
    assert ">Tried it on Tuesday, the team liked it</textarea>" in article
    assert "Edit your comment" in article

    _act(client, tip, action="comment", comment="Did it twice now")
    assert tip.comment == "Did it twice now"
    assert "Did it twice now" in _article(client, tip)


def test_another_managers_tip_cannot_be_dismissed_or_commented(client, tip):
    other = CoachingTip.objects.filter(plan__store__code="S002").first()
    for data in ({"action": "dismiss", "reason": "no_time"}, {"action": "comment", "comment": "x"}):
        assert client.post(f"/tips/{other.pk}/feedback/", data).status_code == 404
    other.refresh_from_db()
    assert other.dismissed_reason == "" and other.comment == ""
