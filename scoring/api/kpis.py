"""Weekly store KPIs (read for your stores, imported by leads and admins) and the chain's drivers:
which categories move a KPI."""

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser

from config.api import (
    COMPUTING,
    CodeField,
    ScopedQuerysetMixin,
    WeekField,
    computed_response,
    int_param,
)

from ..access import kpi_readings_visible_to, no_stores, stores_visible_to
from ..drivers import chain_key_drivers
from ..kpis import import_kpis
from ..models import Kpi, KpiReading
from ..weeks import week_start
from .importing import ImportPermission, ImportResultSerializer, import_response


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
    # Translators: the column names stay as they are.
    file = serializers.FileField(help_text=gettext_lazy("CSV: store_code,week,kpi,value"))
    dry_run = serializers.BooleanField(default=False)


class KpiViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Weekly store KPIs: read for your stores; leads and admins import them."""

    serializer_class = KpiSerializer
    filterset_class = KpiFilter
    scope = staticmethod(kpi_readings_visible_to)

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
            by=request.user,
            via="api import",
        )
        return import_response(result)


class DriverSerializer(serializers.Serializer):
    category = serializers.CharField()
    # xgettext:no-python-format
    importance = serializers.FloatField(help_text=gettext_lazy("% of the explained variance"))
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


class DriversView(ScopedQuerysetMixin, generics.GenericAPIView):
    serializer_class = DriverAnalysisSerializer
    scope = staticmethod(no_stores)  # answers from the chain-wide aggregate, not from rows

    @extend_schema(
        parameters=[
            OpenApiParameter("kpi", str, enum=Kpi.values, description="default sales"),
            OpenApiParameter("horizon", int, description="weeks ahead (1-12)"),
        ],
        responses={200: DriverAnalysisSerializer, 202: COMPUTING},
    )
    def get(self, request):
        """Which categories move the KPI across the chain: an aggregate every role may read."""
        kpi = request.query_params.get("kpi") or Kpi.SALES
        if kpi not in Kpi.values:
            raise ValidationError(
                # Translators: followed by a list of codes, which stay as they are.
                {"kpi": _("one of %(choices)s") % {"choices": ", ".join(Kpi.values)}}
            )
        horizon = int_param(request, "horizon", default=4, low=1, high=12)
        result = chain_key_drivers(kpi=kpi, horizon=horizon, end=week_start(timezone.localdate()))
        return computed_response(result, DriverAnalysisSerializer)
