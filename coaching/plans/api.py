"""/api/v1/plans/ and /api/v1/tips/: weekly coaching, newest first, and a manager's feedback on
their tips. Reads follow `coaching.plans.access`; feedback goes through `services`."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import CodeField, ScopedQuerysetMixin, WeekField
from scoring.weeks import parse_week

from ..models import CoachingTip, WeeklyPlan
from . import services
from .access import own_tips, plans_with_tips_visible_to, tips_visible_to


class TipSerializer(serializers.ModelSerializer):
    category = CodeField(slug_field="code", read_only=True)
    module = CodeField(slug_field="slug", read_only=True)
    followup_answer = serializers.ChoiceField(
        choices=CoachingTip.Followup.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = CoachingTip
        fields = [
            "id",
            "order",
            "category",
            "title",
            "why",
            "steps",
            "module",
            "done_at",
            "helpful",
            "dismissed_reason",
            "comment",
            "followup_answer",
        ]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    store = CodeField(slug_field="code", read_only=True)
    manager = serializers.CharField(source="manager.username", read_only=True)
    week = WeekField()
    data_week = WeekField(allow_null=True)
    tips = TipSerializer(many=True, read_only=True)

    class Meta:
        model = WeeklyPlan
        fields = [
            "id",
            "manager",
            "store",
            "week",
            "data_week",
            "status",
            "provider",
            "model",
            "focus",
            "fallback_reason",
            "created_at",
            "read_at",
            "tips",
        ]
        read_only_fields = fields


class PlanFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code")
    week = django_filters.CharFilter(
        method="filter_week", help_text=gettext_lazy("ISO week, e.g. 2026-W48")
    )

    class Meta:
        model = WeeklyPlan
        fields = ["store", "week", "status"]

    def filter_week(self, queryset, name, value):
        try:
            return queryset.filter(week=parse_week(value))
        except ValueError as exc:
            raise serializers.ValidationError({"week": str(exc)}) from None


class PlanViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Weekly coaching, newest first. A manager opening their own plan marks it read."""

    scope = staticmethod(plans_with_tips_visible_to)
    serializer_class = PlanSerializer
    filterset_class = PlanFilter

    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        if plan.manager_id == request.user.id:
            services.touch_read(plan)
        return Response(self.get_serializer(plan).data)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Done and helpful",
            {"done": True, "helpful": True, "comment": "The huddle worked"},
            request_only=True,
        )
    ]
)
class FeedbackSerializer(serializers.Serializer):
    done = serializers.BooleanField(required=False, allow_null=True)
    helpful = serializers.BooleanField(required=False, allow_null=True)
    dismissed_reason = serializers.CharField(required=False, max_length=200, allow_blank=True)
    comment = serializers.CharField(required=False, max_length=2000, allow_blank=True)
    followup_answer = serializers.ChoiceField(choices=CoachingTip.Followup.choices, required=False)


class TipViewSet(ScopedQuerysetMixin, viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    scope = staticmethod(tips_visible_to)
    serializer_class = TipSerializer

    @extend_schema(request=FeedbackSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """The manager's feedback on one of their tips: done, helpful, dismissed, comment, and
        four weeks after done, whether it worked."""
        tip = self.get_object()
        if not own_tips(request.user).filter(pk=tip.pk).exists():
            raise PermissionDenied(_("only the plan's manager gives feedback on its tips"))
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        tip = services.record_feedback(tip, **form.validated_data)
        return Response(TipSerializer(tip).data)
