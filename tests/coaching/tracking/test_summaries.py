import io

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.utils import timezone

from coaching.demo import create_demo_history, load_demo_modules
from coaching.models import LeadSummary
from coaching.tracking.services import send_lead_summaries
from scoring.weeks import week_of, week_start, weeks_back

pytestmark = pytest.mark.django_db
WEEK = week_start(timezone.localdate())


class BrokenMailServer(locmem.EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


@pytest.fixture
def demo():
    call_command("demo", stdout=io.StringIO())
    load_demo_modules()
    create_demo_history()


def test_each_lead_gets_one_summary_of_their_region_per_week(demo):
    mail.outbox.clear()

    assert send_lead_summaries(WEEK) == 3

    by_lead = {m.to[0]: m for m in mail.outbox}
    assert len(by_lead) == 3
    north = next(m for to, m in by_lead.items() if to.startswith("lead.north"))
    assert f"Your region, {week_of(weeks_back(WEEK, 1))}:" in north.body
    assert "Average ROR" in north.body and "improving" in north.body
    assert "Coaching impact" in north.body
    assert send_lead_summaries(WEEK) == 0, "once per lead and week"
    assert len(mail.outbox) == 3


def test_a_mail_failure_is_retried_on_the_next_run(demo, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"
    assert send_lead_summaries(WEEK) == 0
    assert not LeadSummary.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = io.StringIO()
    call_command("lead_summaries", stdout=out)
    assert "3 lead summaries sent" in out.getvalue()
