from django.contrib import admin

from .models import CoachingTip, Goal, LLMCall, TrainingModule, WeeklyPlan


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


@admin.register(TrainingModule)
class TrainingModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "minutes", "updated_at"]
    list_filter = ["status", "category"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "summary"]


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
    list_display = ["store", "manager", "week", "status", "provider", "created_at", "read_at"]
    list_filter = ["status", "provider", "week", "store__region"]
    list_select_related = ["store", "manager"]
    search_fields = ["store__code", "manager__username"]
    readonly_fields = ["fingerprint", "focus", "fallback_reason", "created_at", "updated_at"]
    inlines = [TipInline, LLMCallInline]


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
