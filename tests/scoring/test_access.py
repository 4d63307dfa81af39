import pytest
from django.contrib.auth.models import AnonymousUser

from scoring.access import regions_visible_to, stores_visible_to
from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    north, south = RegionFactory(), RegionFactory()
    return {
        "north": north,
        "south": south,
        "n1": StoreFactory(region=north),
        "n2": StoreFactory(region=north),
        "s1": StoreFactory(region=south),
    }


def test_manager_sees_only_their_store(chain):
    manager = user_with_role(Role.STORE_MANAGER, stores=[chain["n1"]])
    assert list(stores_visible_to(manager)) == [chain["n1"]]
    assert list(regions_visible_to(manager)) == [chain["north"]]


def test_lead_sees_the_stores_of_their_region_only(chain):
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[chain["north"]])
    assert set(stores_visible_to(lead)) == {chain["n1"], chain["n2"]}
    assert list(regions_visible_to(lead)) == [chain["north"]]


def test_admin_sees_everything_and_trainer_no_store(chain):
    admin = user_with_role(Role.ADMIN)
    assert stores_visible_to(admin).count() == 3
    assert admin.is_staff
    trainer = user_with_role(Role.TRAINER)
    assert not stores_visible_to(trainer).exists()


def test_users_without_a_role_and_anonymous_see_nothing(chain):
    assert not stores_visible_to(UserFactory()).exists()
    assert not stores_visible_to(AnonymousUser()).exists()
    inactive = user_with_role(Role.REGIONAL_LEAD, regions=[chain["north"]])
    inactive.is_active = False
    assert not stores_visible_to(inactive).exists()


def test_changing_role_moves_the_user_to_the_new_group_only(chain):
    user = user_with_role(Role.STORE_MANAGER, stores=[chain["n1"]])
    from scoring.services import assign_role

    assign_role(user, Role.REGIONAL_LEAD, regions=[chain["south"]])
    assert list(user.groups.values_list("name", flat=True)) == ["Regional leads"]
    assert user.has_perm("scoring.import_scores")
    assert list(stores_visible_to(user)) == [chain["s1"]]
