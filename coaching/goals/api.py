"""/api/v1/goals/: a manager's goals. Reads follow `goals_visible_to`; every write goes through
`coaching.goals.services`, the same functions the web form calls."""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import CodeField, ScopedQuerysetMixin
from scoring.access import role_of, stores_visible_to
from scoring.models import Category, Role, Store
from scoring.weeks import week_start

from ..models import Goal
from . import services
from .access import goals_visible_to
from .selectors import goal_progress, latest_trends_for

# The fields the goal's rules read (`services.check_goal`).
RULED_FIELDS = ("store", "category", "kind", "target_score", "due_date", "intent")


class ManagerWrites(permissions.BasePermission):
    """Reads for whoever the scope lets through; writes for the goal's manager (and admins)."""

    def has_permission(self, request, view):
        # Detail writes are judged on the object, so a foreign one is a 404, not a 403.
        if request.method in permissions.SAFE_METHODS or view.detail:
            return True
        return role_of(request.user) in (Role.STORE_MANAGER, Role.ADMIN)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_of(request.user) == Role.ADMIN or obj.manager_id == request.user.id


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A goal",
            {
                "store": "S001",
                "category": "customer_advocacy",
                "kind": "raise",
                "target_score": "75.0",
                "due_date": "2026-12-21",
                "intent": "Get advocacy back above 75 before the holidays",
            },
            request_only=True,
        )
    ]
)
class GoalSerializer(serializers.ModelSerializer):
    store = CodeField(slug_field="code", queryset=Store.objects.none())  # the caller's, below
    category = CodeField(slug_field="code", queryset=Category.objects.all())
    manager = serializers.CharField(source="manager.username", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id",
            "manager",
            "store",
            "category",
            "kind",
            "target_score",
            "due_date",
            "intent",
            "baseline_score",
            "status",
            "progress",
            "created_at",
        ]
        read_only_fields = ["baseline_score", "status", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["store"].queryset = stores_visible_to(request.user)

    def get_progress(self, goal: Goal) -> dict | None:
        trend = self.context.get("trends", {}).get((goal.store_id, goal.category_id))
        week = self.context.get("week")
        if trend is None or week is None:
            return None
        p = goal_progress(goal, week=week, trend=trend)
        return {"current": p.current, "projected": p.projected, "status": p.status}

    def to_internal_value(self, data):
        """Fields that fail to parse come back with the goal's rules on those that did, so a
        caller sees every problem at once, as the web form shows them."""
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not (isinstance(exc.detail, dict) and isinstance(data, Mapping)):
                raise
            parsed = {}
            for name in RULED_FIELDS:
                if name in data and name not in exc.detail:
                    try:
                        parsed[name] = self.fields[name].run_validation(data[name])
                    except (serializers.ValidationError, DjangoValidationError):
                        continue
            try:
                self._check(parsed)
            except DjangoValidationError as rules:
                raise serializers.ValidationError({**rules.message_dict, **exc.detail}) from exc
            raise

    def validate(self, attrs):
        if self.instance is not None:
            for fixed in ("store", "category"):
                if fixed in attrs and attrs[fixed] != getattr(self.instance, fixed):
                    raise serializers.ValidationError(
                        {fixed: _("cannot change; create a new goal")}
                    )
            status = self.initial_data.get("status") if hasattr(self, "initial_data") else None
            if status is not None and status != self.instance.status:
                raise serializers.ValidationError(
                    {"status": _("a goal is closed with POST /api/v1/goals/{id}/close/")}
                )
            if self.instance.status != Goal.Status.ACTIVE:
                return attrs  # the service refuses the edit as a whole
        self._check(attrs)
        return attrs

    def _check(self, attrs: dict) -> None:
        """The goal's rules, the ones the web form applies (`services.check_goal`)."""
        goal = self.instance
        services.check_goal(
            store=attrs.get("store", goal.store if goal else None),
            category=attrs.get("category", goal.category if goal else None),
            kind=attrs.get("kind"),
            target_score=attrs.get("target_score"),
            due_date=attrs.get("due_date"),
            intent=attrs.get("intent"),
            goal=goal,
        )


class CloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[Goal.Status.ACHIEVED, Goal.Status.MISSED, Goal.Status.DROPPED]
    )


class GoalViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """A manager's goals: create; edit the target, due date or intent; close as achieved,
    missed or dropped; delete drops it."""

    scope = staticmethod(goals_visible_to)
    serializer_class = GoalSerializer
    permission_classes = [permissions.IsAuthenticated, ManagerWrites]
    filterset_fields = ["status"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            context["week"] = week_start(timezone.localdate())
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = self.get_serializer(page, many=True)
        serializer.context["trends"] = latest_trends_for(page)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        goal = self.get_object()
        serializer = self.get_serializer(goal)
        serializer.context["trends"] = latest_trends_for([goal])
        return Response(serializer.data)

    def perform_create(self, serializer):
        data = serializer.validated_data
        if role_of(self.request.user) != Role.STORE_MANAGER:
            raise PermissionDenied(_("goals belong to store managers"))
        serializer.instance = services.create_goal(
            manager=self.request.user,
            store=data["store"],
            category=data["category"],
            target_score=data["target_score"],
            due_date=data["due_date"],
            kind=data.get("kind", Goal.Kind.RAISE),
            intent=data.get("intent", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.edit_goal(
            serializer.instance,
            target_score=data.get("target_score"),
            due_date=data.get("due_date"),
            kind=data.get("kind"),
            intent=data.get("intent"),
        )

    def perform_destroy(self, instance):
        services.drop_goal(instance)

    @extend_schema(request=CloseSerializer, responses=GoalSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close an active goal: achieved (the latest score reached the target), missed (the due
        date has passed) or dropped."""
        goal = self.get_object()
        form = CloseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        goal = services.close_goal(goal, status=form.validated_data["status"])
        return Response(self.get_serializer(goal).data)
