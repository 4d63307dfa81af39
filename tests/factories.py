import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from scoring.models import Category, CategoryScore, Region, Role, Source, Store
from scoring.services import assign_role

MONDAY = dt.date(2026, 11, 16)  # 2026-W47


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"Region {n}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    code = factory.Sequence(lambda n: f"T{n:04d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    password = factory.PostGenerationMethodCall("set_password", "pw")


def user_with_role(role: str, *, stores=(), regions=()):
    user = UserFactory(is_superuser=role == Role.ADMIN)
    user.save()
    assign_role(user, role, stores=stores, regions=regions)
    return user


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def score(store, code, week, value, *, responses=20, source=Source.IMPORT):
    return CategoryScore.objects.create(
        store=store,
        category=category(code),
        week=week,
        score=Decimal(str(value)),
        responses=responses,
        source=source,
    )
