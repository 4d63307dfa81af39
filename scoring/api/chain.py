"""Regions and stores: the chain as the caller may see it, with each store's ROR, trends and
quadrant, and each region's distribution and movement."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import CodeField, ScopedQuerysetMixin, WeekField, int_param, week_param

from ..access import regions_listed_for, stores_listed_for, stores_visible_to
from ..drivers import store_quadrant
from ..models import Region, Store
from ..selectors import (
    improving_and_declining,
    latest_scored_week,
    region_distribution,
    store_trends,
    weekly_ror,
)
from ..weeks import week_start, weeks_back

WEEKS = OpenApiParameter("weeks", int, description="how many weeks back (1-104)")


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A store",
            {"code": "S001", "name": "Leeds", "region": "north", "timezone": "Europe/London"},
        )
    ]
)
class StoreSerializer(serializers.ModelSerializer):
    region = CodeField(slug_field="code", read_only=True)

    class Meta:
        model = Store
        fields = ["code", "name", "region", "timezone"]


class DistributionSerializer(serializers.Serializer):
    region = serializers.CharField()
    category = serializers.CharField()
    week = WeekField()
    stores = serializers.IntegerField()
    average = serializers.FloatField()
    lower_quartile = serializers.FloatField()
    median = serializers.FloatField()
    upper_quartile = serializers.FloatField()


class MovementSerializer(serializers.Serializer):
    week = WeekField(allow_null=True)
    improving = serializers.ListField(child=serializers.CharField())
    declining = serializers.ListField(child=serializers.CharField())
    steady = serializers.ListField(child=serializers.CharField())


def _distribution(request, ids: list[int], *, chain: bool = False) -> list:
    end = latest_scored_week(ids) if ids else None
    if end is None:
        return []
    weeks = int_param(request, "weeks", default=26, low=1, high=104)
    return region_distribution(
        store_ids=ids, start=weeks_back(end, weeks - 1), end=end, chain=chain
    )


class RegionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    lookup_field = "code"
    scope = staticmethod(regions_listed_for)

    @extend_schema(parameters=[WEEKS], responses=DistributionSerializer(many=True))
    @action(detail=False, url_path="chain-distribution", pagination_class=None)
    def chain_distribution(self, request):
        """Per category and week across every store you can see (region "chain")."""
        ids = list(stores_visible_to(request.user).values_list("id", flat=True))
        return Response(
            DistributionSerializer(_distribution(request, ids, chain=True), many=True).data
        )

    def _store_codes(self) -> dict[int, str]:
        """The region's stores the caller can see, code by id."""
        stores = stores_visible_to(self.request.user).filter(region=self.get_object())
        return dict(stores.values_list("id", "code"))

    @extend_schema(parameters=[WEEKS], responses=DistributionSerializer(many=True))
    @action(detail=True)
    def distribution(self, request, code=None):
        """Per category and week: the average and quartiles of the region's stores you can see."""
        rows = _distribution(request, list(self._store_codes()))
        return Response(DistributionSerializer(rows, many=True).data)

    @extend_schema(responses=MovementSerializer)
    @action(detail=True)
    def movement(self, request, code=None):
        """Stores whose ROR over the last four weeks beat (or fell below) the four before."""
        codes = self._store_codes()
        ids = list(codes)
        end = latest_scored_week(ids) if ids else None
        groups = improving_and_declining(store_ids=ids, end=end) if end else {}
        body = {"week": end}
        for group in ("improving", "declining", "steady"):
            body[group] = sorted(codes[i] for i in groups.get(group, []))
        return Response(MovementSerializer(body).data)


class StoreFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code")

    class Meta:
        model = Store
        fields = ["region"]


class TrendSerializer(serializers.Serializer):
    category = serializers.CharField(source="category.code")
    score = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    low_confidence = serializers.BooleanField()
    significant = serializers.BooleanField()
    moving_average = serializers.FloatField(allow_null=True)
    slope = serializers.FloatField(allow_null=True)
    region_median = serializers.FloatField(allow_null=True)
    chain_top_quartile = serializers.FloatField(allow_null=True)


@extend_schema_serializer(
    examples=[OpenApiExample("A week", {"week": "2026-W47", "ror": 72.4, "coverage": 8})]
)
class RorPointSerializer(serializers.Serializer):
    week = WeekField()
    ror = serializers.FloatField()
    coverage = serializers.IntegerField()


class QuadrantSerializer(serializers.Serializer):
    category = serializers.CharField()
    importance = serializers.FloatField(help_text="% of the KPI change the category explains")
    score = serializers.FloatField()
    median = serializers.FloatField(help_text="the chain's median score")
    quadrant = serializers.ChoiceField(choices=["fix first", "protect", "maintain", "watch"])


def _quadrant(store: Store) -> list[dict]:
    """The store's categories by the chain's sales drivers and the store's latest scores."""
    week = latest_scored_week([store.id])
    if week is None:
        return []
    return store_quadrant(week, store_trends(store, week))


class StoreViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    lookup_field = "code"
    scope = staticmethod(stores_listed_for)

    @extend_schema(parameters=[WEEKS], responses=RorPointSerializer(many=True))
    @action(detail=True)
    def ror(self, request, code=None):
        """Weekly ROR of the store, oldest first."""
        store = self.get_object()
        weeks = int_param(request, "weeks", default=26, low=1, high=104)
        end = week_start(timezone.localdate())
        points = weekly_ror(start=weeks_back(end, weeks - 1), end=end, store_ids=[store.id])
        return Response(RorPointSerializer(points, many=True).data)

    @extend_schema(responses=QuadrantSerializer(many=True))
    @action(detail=True)
    def quadrant(self, request, code=None):
        """Importance x performance: which categories to fix first at this store (empty until
        there are enough sales KPIs to learn the drivers from)."""
        return Response(QuadrantSerializer(_quadrant(self.get_object()), many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("week", str, description="ISO week; default the latest")],
        responses=TrendSerializer(many=True),
    )
    @action(detail=True)
    def trends(self, request, code=None):
        """Each category's score, change, noise test and benchmarks for one week."""
        store = self.get_object()
        week = week_param(request) or latest_scored_week([store.id])
        if week is None:
            return Response([])
        return Response(TrendSerializer(store_trends(store, week), many=True).data)
