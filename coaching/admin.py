from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from .models import (
    CoachingTip,
    Goal,
    LeadSummary,
    LLMCall,
    ModuleCompletion,
    ModuleVersion,
    Nudge,
    PlanReply,
    TrainingModule,
    WeeklyPlan,
)
from .modules import services as authoring


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = [
        "manager",
        "store",
        "category",
        "baseline_score",
        "target_score",
        "due_date",
        "status",
    ]
    list_filter = ["status", "category", "store__region"]
    list_select_related = ["manager", "store", "category"]
    search_fields = ["store__code", "manager__username", "intent"]


class TrainingModuleForm(forms.ModelForm):
    class Meta:
        model = TrainingModule
        fields = authoring.EDITABLE

    def clean_quiz(self):
        quiz = self.cleaned_data["quiz"]
        return authoring.validate_quiz(quiz) if quiz else quiz


@admin.register(TrainingModule)
class TrainingModuleAdmin(admin.ModelAdmin):
    """Saves and status changes go through `authoring`, so the admin versions modules as the
    studio does: editing a published module publishes a new version."""

    list_display = [
        "title",
        "category",
        "status",
        "version",
        "level",
        "ai_draft",
        "template_draft",
        "updated_at",
    ]
    list_filter = ["status", "category", "level", "ai_draft", "template_draft"]
    list_select_related = ["category"]
    search_fields = ["title", "summary"]
    readonly_fields = [
        "slug",
        "status",
        "version",
        "author",
        "ai_draft",
        "template_draft",
        "created_at",
    ]
    actions = ["submit", "publish", "archive"]
    form = TrainingModuleForm

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == TrainingModule.Status.ARCHIVED:
            return False  # read-only until published again
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in authoring.EDITABLE}
        try:
            if change:
                changed = {k: v for k, v in fields.items() if k in form.changed_data}
                saved = authoring.edit_module(request.user, obj, **changed)
            else:
                title, category = fields.pop("title"), fields.pop("category")
                saved = authoring.create_module(
                    request.user, title=title, category=category, **fields
                )
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Not saved: {'; '.join(_messages(exc))}", messages.ERROR)
            return
        obj.pk, obj.slug, obj.version = saved.pk, saved.slug, saved.version

    def _apply(self, request, queryset, service, done: str) -> None:
        for module in queryset:
            try:
                service(request.user, module)
                self.message_user(request, f"{module}: {done}")
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{module}: {'; '.join(_messages(exc))}", messages.ERROR)

    @admin.action(description="Submit for review")
    def submit(self, request, queryset):
        self._apply(request, queryset, authoring.submit_module, "submitted")

    @admin.action(description="Publish")
    def publish(self, request, queryset):
        self._apply(request, queryset, authoring.publish_module, "published")

    @admin.action(description="Archive")
    def archive(self, request, queryset):
        self._apply(request, queryset, authoring.archive_module, "archived")


def _messages(exc: Exception) -> list[str]:
    return getattr(exc, "messages", None) or [str(exc)]


@admin.register(ModuleVersion)
class ModuleVersionAdmin(admin.ModelAdmin):
    list_display = ["module", "version", "published_by", "published_at"]
    list_select_related = ["module", "published_by"]

    def has_change_permission(self, request, obj=None):
        return False  # a published version is a record of what managers read


@admin.register(ModuleCompletion)
class ModuleCompletionAdmin(admin.ModelAdmin):
    list_display = ["manager", "version", "store", "score", "completed_at"]
    list_filter = ["module__category"]
    list_select_related = ["manager", "version", "store"]

    def has_change_permission(self, request, obj=None):
        return False


class TipInline(admin.StackedInline):
    model = CoachingTip
    extra = 0
    fields = ["order", "category", "title", "why", "steps", "module", "done_at", "helpful"]
    readonly_fields = fields


class LLMCallInline(admin.TabularInline):
    model = LLMCall
    extra = 0
    fields = [
        "provider",
        "model",
        "attempt",
        "outcome",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "error",
    ]
    readonly_fields = fields


@admin.register(WeeklyPlan)
class WeeklyPlanAdmin(admin.ModelAdmin):
    list_display = [
        "store",
        "manager",
        "week",
        "status",
        "provider",
        "why",
        "created_at",
        "read_at",
    ]
    list_filter = ["status", "provider", "week", "store__region"]
    list_select_related = ["store", "manager"]
    search_fields = ["store__code", "manager__username"]
    readonly_fields = ["fingerprint", "focus", "fallback_reason", "created_at", "updated_at"]
    inlines = [TipInline, LLMCallInline]

    @admin.display(description="why it fell back or failed")
    def why(self, plan: WeeklyPlan) -> str:
        reason = plan.fallback_reason
        return reason if len(reason) <= 120 else f"{reason[:119]}…"


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "provider",
        "model",
        "prompt_version",
        "outcome",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "cost_usd",
    ]
    list_filter = ["outcome", "provider", "model"]
    date_hierarchy = "created_at"


@admin.register(CoachingTip)
class CoachingTipAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "plan", "done_at", "helpful", "followup_answer"]
    list_filter = ["category", "helpful", "followup_answer", "plan__week"]
    list_select_related = ["category", "plan__store"]
    search_fields = ["title", "plan__store__code"]
    raw_id_fields = ["plan", "module"]


@admin.register(LeadSummary)
class LeadSummaryAdmin(admin.ModelAdmin):
    list_display = ["lead", "week", "sent_at"]
    list_filter = ["week"]
    list_select_related = ["lead"]


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    list_display = ["manager", "store", "week", "kind", "sent_by", "open_tips", "sent_at"]
    list_filter = ["kind", "week"]
    list_select_related = ["manager", "store", "sent_by"]
    readonly_fields = ["created_at", "sent_at", "attempts"]


@admin.register(PlanReply)
class PlanReplyAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "author", "created_at", "seen_at"]
    list_filter = ["kind"]
    list_select_related = ["plan__store", "plan__manager", "author"]
    search_fields = ["plan__store__code", "body"]
    raw_id_fields = ["plan", "tip", "author"]
    readonly_fields = ["created_at", "seen_at"]
