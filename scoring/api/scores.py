"""Category scores: read for your stores, imported (JSON rows or a CSV) by those who may."""

import csv
import io

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import pagination, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser

from config.api import CodeField, ScopedQuerysetMixin, WeekField

from ..access import scores_visible_to, stores_visible_to
from ..imports import import_scores
from ..models import CategoryScore, Source
from .importing import (
    ImportPermission,
    ImportResultSerializer,
    check_upload_size,
    import_response,
)

MAX_JSON_ROWS = 10_000


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
    file = serializers.FileField(
        required=False, help_text=gettext_lazy("a score CSV, as for import_scores")
    )
    dry_run = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if bool(attrs.get("rows")) == bool(attrs.get("file")):
            raise serializers.ValidationError(_("send either rows (JSON) or a CSV file, not both"))
        return attrs


class ScoreCursor(pagination.CursorPagination):
    """Newest week first, by cursor: a region holds a million scores, so a page neither counts
    them nor skips over the ones before it, and new imports do not shift the pages."""

    ordering = ("-week", "store_id", "category_id", "source")
    page_size_query_param = "page_size"
    max_page_size = 500


class ScoreViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Scores of the stores you see, newest week first, a page at a time (follow `next`)."""

    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter
    scope = staticmethod(scores_visible_to)
    pagination_class = ScoreCursor

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
        the first IMPORT_MAX_ERRORS bad rows as "line N: reason" (line 1 is the header) and
        counts the rest (`error_count`). Only the caller's stores, and no week more than
        SCORE_BACKDATE_WEEKS back; the import is recorded with its author. A body over
        IMPORT_MAX_UPLOAD_MB is a 413; on SQLite, a file over SQLITE_WEB_IMPORT_MAX_ROWS rows
        is refused (use `manage.py import_scores`)."""
        form = ScoreImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        check_upload_size(form.validated_data.get("file"))
        stream = form.validated_data.get("file") or _rows_as_csv(form.validated_data["rows"])
        result = import_scores(
            stream,
            dry_run=form.validated_data["dry_run"],
            stores=stores_visible_to(request.user),
            by=request.user,
            via="api import",
        )
        return import_response(result)


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
