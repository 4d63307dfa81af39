"""The people of the modules' tests: authors, managers of one region and another, a lead."""

import pytest

from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, user_with_role


@pytest.fixture
def people():
    region, other_region = RegionFactory(), RegionFactory()
    store, neighbour, far = (
        StoreFactory(region=region),
        StoreFactory(region=region),
        StoreFactory(region=other_region),
    )
    return {
        "trainer": user_with_role(Role.TRAINER),
        "admin": user_with_role(Role.ADMIN),
        "manager": user_with_role(Role.STORE_MANAGER, stores=[store]),
        "neighbour": user_with_role(Role.STORE_MANAGER, stores=[neighbour]),
        "far_manager": user_with_role(Role.STORE_MANAGER, stores=[far]),
        "lead": user_with_role(Role.REGIONAL_LEAD, regions=[region]),
        "store": store,
        "neighbour_store": neighbour,
        "far_store": far,
    }
