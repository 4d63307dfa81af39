"""The "Your settings" page: the language a person reads, and a store manager's mid-week
reminders."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from coaching.preferences import services
from scoring.languages import chosen_language
from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db
URL = "/settings/"


@pytest.fixture
def manager():
    return user_with_role(Role.STORE_MANAGER, stores=[StoreFactory(language="en")])


def test_the_url_is_named_settings():
    assert reverse("settings") == URL


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_manager_sees_the_language_and_the_reminders(client, manager):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_language">Language:</label>' in html
    assert '<option value="" selected>Your store&#x27;s language</option>' in html
    assert '<option value="fr">Français</option>' in html
    assert 'type="checkbox" name="nudges"' in html and "checked" in html
    assert '<label for="id_nudges">Mid-week reminders:</label>' in html
    assert "An email on Thursday" in html
    assert 'aria-describedby="id_nudges_helptext"' in html


def test_saving_changes_the_language_and_turns_reminders_off(client):
    manager = user_with_role(Role.STORE_MANAGER, stores=[StoreFactory(language="es")])
    client.force_login(manager)
    assert client.get(URL).wsgi_request.LANGUAGE_CODE == "es", "the store's language at first"

    response = client.post(URL, {"language": "fr"})  # the box unticked

    assert response.status_code == 302 and response["Location"] == URL
    manager.profile.refresh_from_db()
    assert (manager.profile.language, manager.profile.nudges) == ("fr", False)
    assert len(list(get_messages(response.wsgi_request))) == 1
    page = client.get(URL)
    assert page.wsgi_request.LANGUAGE_CODE == "fr", "the page then renders in the new language"
    html = page.content.decode()
    assert 'name="nudges"' in html and "checked" not in html

    client.post(URL, {"language": "", "nudges": "on"})
    manager.profile.refresh_from_db()
    assert (manager.profile.language, manager.profile.nudges) == ("", True)
    assert client.get(URL).wsgi_request.LANGUAGE_CODE == "es", "back to the store's"


def test_saving_forgets_the_cached_language(manager, monkeypatch):
    forgotten = []
    monkeypatch.setattr(services, "forget_language", forgotten.append)
    services.save_preferences(manager.profile, language="fr", nudges=True)
    assert forgotten == [[manager.pk]]
    assert chosen_language(manager) == "fr"


def test_an_unknown_language_is_refused(client, manager):
    client.force_login(manager)
    response = client.post(URL, {"language": "de", "nudges": "on"})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    manager.profile.refresh_from_db()
    assert manager.profile.language == ""


def test_a_lead_chooses_a_language_and_has_no_reminders_box(client):
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[RegionFactory()])
    client.force_login(lead)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="nudges"' not in html
    assert "Your browser&#x27;s language" in html

    assert client.post(URL, {"language": "es"}).status_code == 302
    lead.profile.refresh_from_db()
    assert (lead.profile.language, lead.profile.nudges) == ("es", True)


def test_an_account_without_a_profile_is_told_no_not_a_500(client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"language": "fr"}).status_code == 403
