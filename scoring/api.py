"""The scoring half of /api/v1/: the chain, categories, scores in (import, questionnaire) and
ROR out. Every queryset starts from `scoring.access`, so another store's object is a 404."""

import csv
import datetime as dt
import io

import django_filters
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api import CodeField

from . import services
from .access import regions_visible_to, stores_visible_to
from .drivers import key_drivers, store_quadrant
from .imports import import_scores
from .kpis import import_kpis
from .models import Category, CategoryScore, Kpi, KpiReading, Question, Region, Source, Store
from .selectors import (
    improving_and_declining,
    latest_scored_week,
    region_distribution,
    store_trends,
    weekly_ror,
)
from .weeks import parse_week, week_label, week_start, weeks_back

MAX_JSON_ROWS = 10_000


class ReadOrModelPermission(permissions.DjangoModelPermissions):
    """Anyone signed in reads; writes need the model permission (admins hold it)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


@extend_schema_field({"type": "string", "example": "2026-W48"})
class WeekField(serializers.Field):
    """An ISO week in and out: "2026-W48" (any date in the week is accepted too)."""

    default_error_messages = {"invalid": "Expected an ISO week such as 2026-W48: {reason}"}

    def to_internal_value(self, data) -> dt.date:
        try:
            return parse_week(str(data))
        except ValueError as exc:
            self.fail("invalid", reason=exc)

    def to_representation(self, value: dt.date) -> str:
        return week_label(value)


# --- the chain ---------------------------------------------------------------------------------


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


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    lookup_field = "code"

    def get_queryset(self):
        return regions_visible_to(self.request.user).order_by("code")

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="how many weeks back (1-104)")],
        responses=DistributionSerializer(many=True),
    )
    @action(detail=False, url_path="chain-distribution", pagination_class=None)
    def chain_distribution(self, request):
        """Per category and week across every store you can see (region "chain")."""
        ids = list(stores_visible_to(request.user).values_list("id", flat=True))
        return Response(
            DistributionSerializer(self._distribution(request, ids, chain=True), many=True).data
        )

    def _distribution(self, request, ids: list[int], *, chain: bool = False):
        end = latest_scored_week(ids) if ids else None
        if end is None:
            return []
        weeks = int_param(request, "weeks", default=26, low=1, high=104)
        return region_distribution(
            store_ids=ids, start=weeks_back(end, weeks - 1), end=end, chain=chain
        )

    def _store_ids(self) -> list[int]:
        stores = stores_visible_to(self.request.user).filter(region=self.get_object())
        return list(stores.values_list("id", flat=True))

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="how many weeks back (1-104)")],
        responses=DistributionSerializer(many=True),
    )
    @action(detail=True)
    def distribution(self, request, code=None):
        """Per category and week: the average and quartiles of the region's stores you can see."""
        rows = self._distribution(request, self._store_ids())
        return Response(DistributionSerializer(rows, many=True).data)

    @extend_schema(responses=MovementSerializer)
    @action(detail=True)
    def movement(self, request, code=None):
        """Stores whose ROR over the last four weeks beat (or fell below) the four before."""
        ids = self._store_ids()
        end = latest_scored_week(ids) if ids else None
        groups = improving_and_declining(store_ids=ids, end=end) if end else {}
        codes = dict(Store.objects.filter(id__in=ids).values_list("id", "code"))
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


class StoreViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    lookup_field = "code"

    def get_queryset(self):
        return stores_visible_to(self.request.user).select_related("region").order_by("code")

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="how many weeks back (1-104)")],
        responses=RorPointSerializer(many=True),
    )
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
        week = _week_param(request) or latest_scored_week([store.id])
        if week is None:
            return Response([])
        return Response(TrendSerializer(store_trends(store, week), many=True).data)


def int_param(request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: f"{name} must be a whole number"}) from None
    if not low <= value <= high:
        raise ValidationError({name: f"{name} must be between {low} and {high}"})
    return value


def _week_param(request) -> dt.date | None:
    raw = request.query_params.get("week")
    if not raw:
        return None
    try:
        return parse_week(raw)
    except ValueError as exc:
        raise ValidationError({"week": str(exc)}) from None


# --- categories and questions ------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name", "description", "weight", "display_order", "active"]
        read_only_fields = ["code"]


class CategoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone reads the eight categories; admins change names, weights, order and activity."""

    serializer_class = CategorySerializer
    permission_classes = [ReadOrModelPermission]
    queryset = Category.objects.order_by("display_order")
    lookup_field = "code"


class QuestionSerializer(serializers.ModelSerializer):
    category = CodeField(slug_field="code", read_only=True)

    class Meta:
        model = Question
        fields = ["id", "category", "text", "display_order"]


class QuestionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QuestionSerializer
    queryset = Question.objects.filter(active=True).select_related("category")


# --- scores ------------------------------------------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A score",
            {
                "store": "S001",
                "category": "customer_advocacy",
                "week": "2026-W47",
                "score": "71.5",
                "responses": 40,
                "source": "import",
            },
        )
    ]
)
class ScoreSerializer(serializers.ModelSerializer):
    store = CodeField(slug_field="code", read_only=True)
    category = CodeField(slug_field="code", read_only=True)
    week = WeekField()

    class Meta:
        model = CategoryScore
        fields = ["store", "category", "week", "score", "responses", "source"]


class ScoreFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code")
    category = django_filters.CharFilter(field_name="category__code")
    week_from = django_filters.DateFilter(field_name="week", lookup_expr="gte")
    week_to = django_filters.DateFilter(field_name="week", lookup_expr="lte")

    class Meta:
        model = CategoryScore
        fields = ["store", "category", "source", "week_from", "week_to"]


class ScoreRowSerializer(serializers.Serializer):
    store_code = serializers.CharField(max_length=40)
    week = serializers.CharField(max_length=20)
    category = serializers.CharField(max_length=40)
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    responses = serializers.IntegerField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "JSON rows",
            {
                "rows": [
                    {
                        "store_code": "S001",
                        "week": "2026-W47",
                        "category": "customer_advocacy",
                        "score": 71.5,
                        "responses": 40,
                    }
                ],
                "dry_run": False,
            },
            request_only=True,
        )
    ]
)
class ScoreImportSerializer(serializers.Serializer):
    rows = ScoreRowSerializer(many=True, required=False, max_length=MAX_JSON_ROWS)
    file = serializers.FileField(required=False, help_text="a score CSV, as for import_scores")
    dry_run = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if bool(attrs.get("rows")) == bool(attrs.get("file")):
            raise serializers.ValidationError("send either rows (JSON) or a CSV file, not both")
        return attrs


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Imported",
            {"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "dry_run": False, "errors": []},
            response_only=True,
        )
    ]
)
class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())


class ImportPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("scoring.import_scores")


class ScoreViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter

    def get_queryset(self):
        return (
            CategoryScore.objects.filter(store__in=stores_visible_to(self.request.user))
            .select_related("store", "category")
            .order_by("-week", "store__code", "category__display_order", "source")
        )

    @extend_schema(
        request={
            "application/json": ScoreImportSerializer,
            "multipart/form-data": ScoreImportSerializer,
        },
        responses={201: ImportResultSerializer, 200: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=[permissions.IsAuthenticated, ImportPermission],
        parser_classes=[JSONParser, MultiPartParser],
    )
    def import_(self, request):
        """All or nothing, like `import_scores`: any bad row and nothing is written; a 400 lists
        every bad row as "line N: reason" (line 1 is the header). Only the caller's stores."""
        form = ScoreImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        stream = form.validated_data.get("file") or _rows_as_csv(form.validated_data["rows"])
        result = import_scores(
            stream, dry_run=form.validated_data["dry_run"], stores=stores_visible_to(request.user)
        )
        return _import_response(result)


def _import_response(result) -> Response:
    body = ImportResultSerializer(
        {**result.__dict__, "errors": [str(e) for e in result.errors]}
    ).data
    if not result.ok:
        return Response(
            {
                "error": {
                    "status": 400,
                    "code": "invalid_rows",
                    "detail": f"{len(result.errors)} bad rows; nothing was imported.",
                    "fields": {"rows": body["errors"]},
                }
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response(body, status=status.HTTP_200_OK if result.dry_run else status.HTTP_201_CREATED)


def _rows_as_csv(rows: list[dict]) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["store_code", "week", "category", "score", "responses", "source"])
    for row in rows:
        writer.writerow(
            [
                row["store_code"],
                row["week"],
                row["category"],
                row["score"],
                "" if row.get("responses") is None else row["responses"],
                row.get("source") or Source.IMPORT,
            ]
        )
    return io.BytesIO(text.getvalue().encode())


# --- questionnaire -----------------------------------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two respondents",
            {
                "store": "S001",
                "week": "2026-W47",
                "responses": [{"1": 4, "2": 5}, {"1": 3, "2": 4}],
            },
            request_only=True,
        )
    ]
)
class QuestionnaireSerializer(serializers.Serializer):
    store = serializers.CharField(help_text="store code")
    week = WeekField()
    responses = serializers.ListField(
        child=serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5)),
        min_length=1,
        max_length=5000,
        help_text='one object per respondent: {"<question id>": 1-5, ...}',
    )


class QuestionnaireViewSet(viewsets.GenericViewSet):
    serializer_class = QuestionnaireSerializer

    @extend_schema(
        responses={201: {"type": "object", "properties": {"saved": {"type": "integer"}}}}
    )
    def create(self, request):
        """Submit questionnaire responses for one of your stores and a week."""
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        store = get_object_or_404(stores_visible_to(request.user), code=data["store"])
        try:
            responses = [{int(q): v for q, v in r.items()} for r in data["responses"]]
        except ValueError:
            raise ValidationError({"responses": "question ids are whole numbers"}) from None
        if data["week"] > week_start(timezone.localdate()):
            raise ValidationError({"week": "the week is in the future"})
        saved = services.submit_responses(store=store, week=data["week"], responses=responses)
        return Response({"saved": saved}, status=status.HTTP_201_CREATED)


# --- KPIs and drivers --------------------------------------------------------------------------


class KpiSerializer(serializers.ModelSerializer):
    store = CodeField(slug_field="code", read_only=True)
    week = WeekField()

    class Meta:
        model = KpiReading
        fields = ["store", "week", "kpi", "value"]


class KpiFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code")
    week_from = django_filters.DateFilter(field_name="week", lookup_expr="gte")
    week_to = django_filters.DateFilter(field_name="week", lookup_expr="lte")

    class Meta:
        model = KpiReading
        fields = ["store", "kpi", "week_from", "week_to"]


class KpiImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV: store_code,week,kpi,value")
    dry_run = serializers.BooleanField(default=False)


class KpiViewSet(viewsets.ReadOnlyModelViewSet):
    """Weekly store KPIs: read for your stores; leads and admins import them."""

    serializer_class = KpiSerializer
    filterset_class = KpiFilter

    def get_queryset(self):
        return (
            KpiReading.objects.filter(store__in=stores_visible_to(self.request.user))
            .select_related("store")
            .order_by("-week", "store__code", "kpi")
        )

    @extend_schema(
        request={"multipart/form-data": KpiImportSerializer},
        responses={201: ImportResultSerializer, 200: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=[permissions.IsAuthenticated, ImportPermission],
        parser_classes=[MultiPartParser],
    )
    def import_(self, request):
        """All or nothing, with row errors, like `import_kpis`; only your stores."""
        form = KpiImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = import_kpis(
            form.validated_data["file"],
            dry_run=form.validated_data["dry_run"],
            stores=stores_visible_to(request.user),
        )
        return _import_response(result)


class DriverSerializer(serializers.Serializer):
    category = serializers.CharField()
    importance = serializers.FloatField(help_text="% of the explained variance")
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)


class DriverAnalysisSerializer(serializers.Serializer):
    kpi = serializers.CharField()
    horizon = serializers.IntegerField()
    rows = serializers.IntegerField()
    stores = serializers.IntegerField()
    r_squared = serializers.FloatField(allow_null=True)
    drivers = DriverSerializer(many=True)
    note = serializers.CharField(allow_blank=True)


class DriversView(generics.GenericAPIView):
    serializer_class = DriverAnalysisSerializer
    queryset = Store.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("kpi", str, enum=Kpi.values, description="default sales"),
            OpenApiParameter("horizon", int, description="weeks ahead (1-12)"),
        ],
        responses=DriverAnalysisSerializer,
    )
    def get(self, request):
        """Which categories move the KPI across the chain: an aggregate every role may read."""
        kpi = request.query_params.get("kpi") or Kpi.SALES
        if kpi not in Kpi.values:
            raise ValidationError({"kpi": f"one of {', '.join(Kpi.values)}"})
        horizon = int_param(request, "horizon", default=4, low=1, high=12)
        analysis = key_drivers(
            list(Store.objects.values_list("id", flat=True)),
            end=week_start(timezone.localdate()),
            kpi=kpi,
            horizon=horizon,
        )
        return Response(DriverAnalysisSerializer(analysis).data)
