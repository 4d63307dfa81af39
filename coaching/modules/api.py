"""/api/v1/modules/ and /api/v1/completions/: trainers author and publish, everyone else reads
published versions and managers complete them. Writes go through `coaching.modules.services`."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import CodeField, ScopedQuerysetMixin
from scoring.access import stores_visible_to
from scoring.models import Category

from ..models import ModuleCompletion, ModuleVersion, TrainingModule
from . import services
from .access import completions_listed_for, module_originals, modules_with_versions_readable_by
from .markdown import render_markdown


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
    # A language version names the module it translates (recommendations prefer the reader's).
    translation_of = CodeField(
        slug_field="slug", queryset=module_originals(), required=False, allow_null=True
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
            "language",
            "translation_of",
            "quiz",
            "status",
            "version",
            "author",
            "ai_draft",
            "template_draft",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "slug",
            "status",
            "version",
            "ai_draft",
            "template_draft",
            "created_at",
            "updated_at",
        ]

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


class SendBackSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000)


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


class ModuleViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """Trainers author (create, edit, submit, publish, archive, draft with AI); everyone else
    reads published modules and managers complete them."""

    scope = staticmethod(modules_with_versions_readable_by)
    serializer_class = ModuleSerializer
    permission_classes = [permissions.IsAuthenticated, AuthorWrites]
    lookup_field = "slug"
    filterset_fields = ["status", "level", "language"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["author"] = self.request.user.has_perm("coaching.change_trainingmodule")
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.create_module(
            self.request.user, title=data.pop("title"), category=data.pop("category"), **data
        )

    def perform_update(self, serializer):
        serializer.instance = services.edit_module(
            self.request.user, serializer.instance, **serializer.validated_data
        )

    def _transition(self, service):
        module = service(self.request.user, self.get_object())
        return Response(self.get_serializer(module).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, slug=None):
        return self._transition(services.submit_module)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def publish(self, request, slug=None):
        return self._transition(services.publish_module)

    @extend_schema(request=SendBackSerializer)
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, slug=None):
        """The reviewer's 'not yet': back to its author, with a note saying what to change."""
        form = SendBackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        module = services.send_back(
            request.user, self.get_object(), note=form.validated_data["note"]
        )
        return Response(self.get_serializer(module).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request, slug=None):
        return self._transition(services.archive_module)

    @extend_schema(request=ModuleDraftSerializer, responses={201: ModuleSerializer})
    @action(detail=False, methods=["post"])
    def draft(self, request):
        """Draft with AI: a draft module from the LLM (or the playbook when it fails)."""
        form = ModuleDraftSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        module, fallback = services.draft_with_ai(request.user, **form.validated_data)
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
        completion = services.complete_module(
            request.user, module, form.validated_data["answers"], store=store
        )
        return Response(CompletionSerializer(completion).data, status=status.HTTP_201_CREATED)


class CompletionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    scope = staticmethod(completions_listed_for)
    serializer_class = CompletionSerializer
