"""/api/v1/progress/, /api/v1/impact/ and /api/v1/engagement/: scores over time, coaching's
estimated effect, and how managers engage with their coaching, for the stores a user may see."""

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, viewsets

from config.api import COMPUTING, Pagination, WeekField, computed_response, int_param
from scoring.access import role_of, stores_visible_to
from scoring.models import Role
from scoring.selectors import category_series, latest_scored_week
from scoring.weeks import week_start, weeks_back

from .access import no_stores, stores_for_aggregates
from .selectors import engagement_by_week, impact_between


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A point",
            {"store": "S001", "category": "team_retention", "week": "2026-W47", "score": 64.2},
        )
    ]
)
class ProgressSerializer(serializers.Serializer):
    store = serializers.CharField()
    category = serializers.CharField()
    week = WeekField()
    score = serializers.FloatField()


class StorePages(Pagination):
    """Pages of whole stores: a store's series is never split, and a page reads only its own
    stores' scores (at 1,000 stores, all of them is 200,000 rows)."""

    page_size = 10
    max_page_size = 100


class ProgressViewSet(viewsets.GenericViewSet):
    serializer_class = ProgressSerializer
    queryset = no_stores()  # the rows come from a selector; this only names the model
    pagination_class = StorePages

    @extend_schema(
        parameters=[
            OpenApiParameter("store", str, description="store code"),
            OpenApiParameter("weeks", int, description="weeks back from the latest (1-104)"),
        ],
        responses=ProgressSerializer(many=True),
    )
    def list(self, request):
        """Per store and category, the weekly score over the last `weeks` (default 26) to the
        latest week any of your stores has scores for; `store=CODE` narrows it to one. A page
        holds whole stores, by code: `page_size` counts stores (10 by default, at most 100), and
        `count` is the number of stores."""
        weeks = int_param(request, "weeks", default=26, low=1, high=104)
        stores = stores_visible_to(request.user)
        if request.query_params.get("store"):
            stores = stores.filter(code=request.query_params["store"])
        ids = stores.order_by("code").values_list("id", flat=True)
        page = list(self.paginate_queryset(ids))
        end = latest_scored_week(list(ids)) if page else None
        rows = category_series(store_ids=page, weeks=weeks, end=end) if end else []
        return self.get_paginated_response(ProgressSerializer(rows, many=True).data)


class EstimateSerializer(serializers.Serializer):
    effect = serializers.FloatField(allow_null=True, help_text="points; null: not enough data")
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    confidence = serializers.FloatField()
    events = serializers.IntegerField()
    stores = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)


class ImpactSerializer(serializers.Serializer):
    overall = EstimateSerializer()
    tips_done = EstimateSerializer()
    tips_not_done = EstimateSerializer()
    by_category = serializers.DictField(child=EstimateSerializer())


class ImpactView(generics.GenericAPIView):
    serializer_class = ImpactSerializer
    queryset = no_stores()  # the report comes from a selector

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="region code"),
            OpenApiParameter("weeks", int, description="coaching weeks to look back (4-104)"),
        ],
        responses={200: ImpactSerializer, 202: COMPUTING},
    )
    def get(self, request):
        """Coaching's estimated effect on the coached categories (docs/impact.md)."""
        stores = stores_for_aggregates(request.user)
        if request.query_params.get("region"):
            stores = stores.filter(region__code=request.query_params["region"])
        weeks = int_param(request, "weeks", default=26, low=4, high=104)
        end = week_start(timezone.localdate())
        result = impact_between(
            list(stores.values_list("id", flat=True)), start=weeks_back(end, weeks), end=end
        )
        return computed_response(result, ImpactSerializer)


class EngagementSerializer(serializers.Serializer):
    manager = serializers.CharField()
    store = serializers.CharField()
    week = WeekField()
    plan_read = serializers.BooleanField()
    tips = serializers.IntegerField()
    tips_done = serializers.IntegerField()
    tips_helpful = serializers.IntegerField()
    modules_completed = serializers.IntegerField()


class EngagementViewSet(viewsets.GenericViewSet):
    serializer_class = EngagementSerializer
    queryset = no_stores()

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="weeks to look back (1-104)")],
        responses=EngagementSerializer(many=True),
    )
    def list(self, request):
        """Per manager and week: plan read, tips done and helpful, modules completed."""
        weeks = int_param(request, "weeks", default=12, low=1, high=104)
        end = week_start(timezone.localdate())
        stores = list(stores_visible_to(request.user).values_list("id", flat=True))
        rows = engagement_by_week(stores, start=weeks_back(end, weeks - 1), end=end)
        if role_of(request.user) == Role.STORE_MANAGER:
            rows = [r for r in rows if r["manager"] == request.user.username]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(EngagementSerializer(page, many=True).data)
