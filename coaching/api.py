"""The coaching half of /api/v1/: goals, weekly plans and tips, training modules, completions.

Scoping is by queryset (a manager's own, a lead's region, everything for admins, nothing personal
for trainers), so a foreign object is a 404; the rules themselves stay in the services.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import CodeField
from scoring.access import role_of, stores_visible_to
from scoring.api import WeekField, int_param
from scoring.models import Category, Role, Store
from scoring.selectors import category_series, category_trends, latest_scored_week
from scoring.weeks import parse_week, week_start, weeks_back

from . import authoring, services
from .markdown import render_markdown
from .models import CoachingTip, Goal, ModuleCompletion, ModuleVersion, TrainingModule, WeeklyPlan
from .selectors import (
    coaching_impact,
    completions_visible_to,
    engagement_by_week,
    goal_progress,
    modules_readable_by,
)


def _scoped(queryset, user, *, manager_field: str = "manager", store_field: str = "store"):
    """Managers: their own rows. Leads: rows of their region's stores. Admins: all. Others: none."""
    role = role_of(user)
    if role == Role.ADMIN:
        return queryset
    if role == Role.REGIONAL_LEAD:
        return queryset.filter(**{f"{store_field}__in": stores_visible_to(user)})
    if role == Role.STORE_MANAGER:
        return queryset.filter(**{manager_field: user})
    return queryset.none()


class ManagerWrites(permissions.BasePermission):
    """Reads for whoever the queryset lets through; writes for store managers (and admins)."""

    def has_permission(self, request, view):
        # Detail writes are judged on the object, so a foreign one is a 404, not a 403.
        if request.method in permissions.SAFE_METHODS or view.detail:
            return True
        return role_of(request.user) in (Role.STORE_MANAGER, Role.ADMIN)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_of(request.user) == Role.ADMIN or obj.manager_id == request.user.id


# --- goals -------------------------------------------------------------------------------------


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A goal",
            {
                "store": "S001",
                "category": "customer_advocacy",
                "target_score": "75.0",
                "due_date": "2026-12-21",
                "intent": "Get advocacy back above 75 before the holidays",
            },
            request_only=True,
        )
    ]
)
class GoalSerializer(serializers.ModelSerializer):
    store = CodeField(slug_field="code", queryset=Store.objects.none())
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
            "target_score",
            "due_date",
            "intent",
            "baseline_score",
            "status",
            "progress",
            "created_at",
        ]
        read_only_fields = ["baseline_score", "created_at"]

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

    def validate(self, attrs):
        if self.instance is not None:
            for fixed in ("store", "category"):
                if fixed in attrs and attrs[fixed] != getattr(self.instance, fixed):
                    raise serializers.ValidationError({fixed: "cannot change; create a new goal"})
        return attrs


class GoalViewSet(viewsets.ModelViewSet):
    """A manager's goals: create, edit target, due date, intent or status; delete drops it."""

    serializer_class = GoalSerializer
    permission_classes = [permissions.IsAuthenticated, ManagerWrites]
    filterset_fields = ["status"]

    def get_queryset(self):
        goals = Goal.objects.select_related("store", "category", "manager").order_by(
            "due_date", "id"
        )
        return _scoped(goals, self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            context["week"] = week_start(timezone.localdate())
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = self.get_serializer(page, many=True)
        serializer.context["trends"] = _trends_for(page)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        goal = self.get_object()
        serializer = self.get_serializer(goal)
        serializer.context["trends"] = _trends_for([goal])
        return Response(serializer.data)

    def perform_create(self, serializer):
        data = serializer.validated_data
        if role_of(self.request.user) != Role.STORE_MANAGER:
            raise PermissionDenied("goals belong to store managers")
        serializer.instance = services.create_goal(
            manager=self.request.user,
            store=data["store"],
            category=data["category"],
            target_score=data["target_score"],
            due_date=data["due_date"],
            intent=data.get("intent", ""),
        )

    def perform_destroy(self, instance):
        services.drop_goal(instance)


def _trends_for(goals) -> dict:
    """The latest trend of each goal's store and category, in a fixed number of queries."""
    store_ids = sorted({g.store_id for g in goals})
    week = latest_scored_week(store_ids) if store_ids else None
    if week is None:
        return {}
    return {
        (store_id, t.category.id): t
        for store_id, trends in category_trends(store_ids=store_ids, week=week).items()
        for t in trends
    }


# --- plans and tips ----------------------------------------------------------------------------


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
    week = django_filters.CharFilter(method="filter_week", help_text="ISO week, e.g. 2026-W48")

    class Meta:
        model = WeeklyPlan
        fields = ["store", "week", "status"]

    def filter_week(self, queryset, name, value):
        try:
            return queryset.filter(week=parse_week(value))
        except ValueError as exc:
            raise serializers.ValidationError({"week": str(exc)}) from None


class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Weekly coaching, newest first. A manager opening their own plan marks it read."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter

    def get_queryset(self):
        plans = (
            WeeklyPlan.objects.select_related("store", "manager")
            .prefetch_related(
                Prefetch("tips", queryset=CoachingTip.objects.select_related("category", "module"))
            )
            .order_by("-week", "store__code")
        )
        return _scoped(plans, self.request.user)

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


class TipViewSet(viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    serializer_class = TipSerializer

    def get_queryset(self):
        tips = CoachingTip.objects.select_related("category", "module", "plan").order_by("id")
        return _scoped(
            tips, self.request.user, manager_field="plan__manager", store_field="plan__store"
        )

    @extend_schema(request=FeedbackSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """The manager's feedback on one of their tips: done, helpful, dismissed, comment, and
        four weeks after done, whether it worked."""
        tip = self.get_object()
        if tip.plan.manager_id != request.user.id:
            raise PermissionDenied("only the plan's manager gives feedback on its tips")
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        tip = services.record_feedback(tip, **form.validated_data)
        return Response(TipSerializer(tip).data)


# --- training modules --------------------------------------------------------------------------


class QuizQuestionSerializer(serializers.Serializer):
    question = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), min_length=4, max_length=4)
    # Authors send and see both; readers get neither until they have answered.
    answer = serializers.IntegerField(min_value=0, max_value=3, required=False)
    explanation = serializers.CharField(required=False)


class ModuleSerializer(serializers.ModelSerializer):
    """Authors get the working copy with the quiz answers; readers get the latest published
    version, with the questions but not the answers."""

    category = CodeField(slug_field="code", queryset=Category.objects.all())
    secondary_category = CodeField(
        slug_field="code", queryset=Category.objects.all(), required=False, allow_null=True
    )
    quiz = QuizQuestionSerializer(many=True, required=False)
    body_html = serializers.SerializerMethodField()
    author = serializers.CharField(
        source="author.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = TrainingModule
        fields = [
            "id",
            "slug",
            "title",
            "category",
            "secondary_category",
            "summary",
            "body",
            "body_html",
            "minutes",
            "level",
            "quiz",
            "status",
            "version",
            "author",
            "ai_draft",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["slug", "status", "version", "ai_draft", "created_at", "updated_at"]

    def get_body_html(self, module) -> str:
        return render_markdown(module.body)

    def to_representation(self, module):
        data = super().to_representation(module)
        if self.context.get("author"):
            return data
        published = _latest_version(module)
        if published is not None:
            data.update(
                title=published.title,
                summary=published.summary,
                body=published.body,
                body_html=render_markdown(published.body),
                minutes=published.minutes,
                level=published.level,
                version=published.version,
                quiz=[{"question": q["question"], "choices": q["choices"]} for q in published.quiz],
            )
        return data


def _latest_version(module) -> ModuleVersion | None:
    versions = module.versions.all()  # prefetched newest first
    return versions[0] if versions else None


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Draft request",
            {
                "category": "customer_advocacy",
                "objective": "Call back detractors within a day",
                "minutes": 15,
            },
            request_only=True,
        )
    ]
)
class ModuleDraftSerializer(serializers.Serializer):
    category = CodeField(slug_field="code", queryset=Category.objects.all())
    objective = serializers.CharField(max_length=500)
    minutes = serializers.IntegerField(min_value=5, max_value=60, default=15)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Completed",
            {
                "id": 7,
                "manager": "manager.s001",
                "module": "following-up-with-detractors",
                "version": 2,
                "store": "S001",
                "score": 75,
                "completed_at": "2026-11-24T09:30:00Z",
            },
            response_only=True,
        )
    ]
)
class CompletionSerializer(serializers.ModelSerializer):
    module = CodeField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    store = CodeField(slug_field="code", read_only=True)
    manager = serializers.CharField(source="manager.username", read_only=True)

    class Meta:
        model = ModuleCompletion
        fields = ["id", "manager", "module", "version", "store", "score", "completed_at"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[OpenApiExample("Quiz answers", {"answers": [2, 0, 3, 1]}, request_only=True)]
)
class CompleteSerializer(serializers.Serializer):
    answers = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=3))
    store = serializers.CharField(required=False, help_text="store code; default your first")


class AuthorWrites(permissions.BasePermission):
    """Writes for authors; detail writes are judged on the object (a foreign one is a 404)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS or view.detail:
            return True
        return request.user.has_perm("coaching.add_trainingmodule")

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or view.action == "complete":
            return True
        return request.user.has_perm("coaching.change_trainingmodule")


class ModuleViewSet(viewsets.ModelViewSet):
    """Trainers author (create, edit, submit, publish, archive, draft with AI); everyone else
    reads published modules and managers complete them."""

    serializer_class = ModuleSerializer
    permission_classes = [permissions.IsAuthenticated, AuthorWrites]
    lookup_field = "slug"
    filterset_fields = ["status", "level"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            modules_readable_by(self.request.user)
            .select_related("category", "secondary_category", "author")
            .prefetch_related(
                Prefetch("versions", queryset=ModuleVersion.objects.order_by("-version"))
            )
            .order_by("category__display_order", "title")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["author"] = self.request.user.has_perm("coaching.change_trainingmodule")
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = authoring.create_module(
            self.request.user, title=data.pop("title"), category=data.pop("category"), **data
        )

    def perform_update(self, serializer):
        serializer.instance = authoring.edit_module(
            self.request.user, serializer.instance, **serializer.validated_data
        )

    def _transition(self, service):
        module = service(self.request.user, self.get_object())
        return Response(self.get_serializer(module).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, slug=None):
        return self._transition(authoring.submit_module)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def publish(self, request, slug=None):
        return self._transition(authoring.publish_module)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request, slug=None):
        return self._transition(authoring.archive_module)

    @extend_schema(request=ModuleDraftSerializer, responses={201: ModuleSerializer})
    @action(detail=False, methods=["post"])
    def draft(self, request):
        """Draft with AI: a draft module from the LLM (or the playbook when it fails)."""
        form = ModuleDraftSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        module, fallback = authoring.draft_with_ai(request.user, **form.validated_data)
        body = self.get_serializer(module).data | {"fallback_reason": fallback}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=CompleteSerializer, responses={201: CompletionSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, slug=None):
        """Answer the quiz of the module's current version; the score comes back."""
        module = self.get_object()
        form = CompleteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        store = None
        if form.validated_data.get("store"):
            store = get_object_or_404(
                stores_visible_to(request.user), code=form.validated_data["store"]
            )
        completion = authoring.complete_module(
            request.user, module, form.validated_data["answers"], store=store
        )
        return Response(CompletionSerializer(completion).data, status=status.HTTP_201_CREATED)


class CompletionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CompletionSerializer

    def get_queryset(self):
        return (
            completions_visible_to(self.request.user)
            .select_related("manager")
            .order_by("-completed_at", "id")
        )


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


class ProgressViewSet(viewsets.GenericViewSet):
    serializer_class = ProgressSerializer
    queryset = Store.objects.none()  # the rows come from a selector; this only names the model

    @extend_schema(
        parameters=[
            OpenApiParameter("store", str, description="store code"),
            OpenApiParameter("weeks", int, description="weeks back from the latest (1-104)"),
        ],
        responses=ProgressSerializer(many=True),
    )
    def list(self, request):
        """Per store and category, the weekly score over the last `weeks` (default 26), for the
        stores you see; `store=CODE` narrows it to one."""
        weeks = int_param(request, "weeks", default=26, low=1, high=104)
        stores = stores_visible_to(request.user)
        if request.query_params.get("store"):
            stores = stores.filter(code=request.query_params["store"])
        rows = category_series(store_ids=list(stores.values_list("id", flat=True)), weeks=weeks)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ProgressSerializer(page, many=True).data)


# --- tracking and impact -------------------------------------------------------------------------


def _stores_for_aggregates(user):
    """Aggregates may span more than a user's own stores: trainers see the chain's."""
    if role_of(user) == Role.TRAINER:
        return Store.objects.all()
    return stores_visible_to(user)


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
    queryset = Store.objects.none()  # the report comes from a selector

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="region code"),
            OpenApiParameter("weeks", int, description="coaching weeks to look back (4-104)"),
        ],
        responses=ImpactSerializer,
    )
    def get(self, request):
        """Coaching's estimated effect on the coached categories (docs/impact.md)."""
        stores = _stores_for_aggregates(request.user)
        if request.query_params.get("region"):
            stores = stores.filter(region__code=request.query_params["region"])
        weeks = int_param(request, "weeks", default=26, low=4, high=104)
        end = week_start(timezone.localdate())
        report = coaching_impact(
            list(stores.values_list("id", flat=True)), start=weeks_back(end, weeks), end=end
        )
        return Response(ImpactSerializer(report).data)


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
    queryset = Store.objects.none()

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
