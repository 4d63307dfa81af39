"""The Django admin of the chain. Scores, KPIs, metric readings and questionnaire submissions
are read-only here: they change only through the services, which record who changed them (the
`ScoreChange` audit trail, read-only too). A role changes only through `services.assign_role`,
which keeps groups and staff flags in step with it."""

from django.contrib import admin

from . import services
from .models import (
    Answer,
    Category,
    CategoryScore,
    KpiReading,
    MetricReading,
    Profile,
    Question,
    Region,
    ScoreChange,
    Store,
)
from .models import Submission as QuestionnaireSubmission
from .pulse.models import PulseDevice, PulseLink


class ReadOnlyMixin:
    """Viewable by those with the view permission; no add, change or delete for anyone."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "timezone", "language"]
    list_filter = ["region"]
    search_fields = ["code", "name"]
    list_select_related = ["region"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "language", "nudges"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email"]
    filter_horizontal = ["stores", "regions"]
    list_select_related = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a profile to another user would leave the first user's groups and flags behind.
        return ["user"] if obj is not None else []

    def save_related(self, request, form, formsets, change):
        """The role, its groups and the user's staff flags are set by the one service, so a
        demoted admin or lead keeps nothing of the old role."""
        super().save_related(request, form, formsets, change)
        profile = form.instance
        services.assign_role(
            profile.user,
            profile.role,
            stores=form.cleaned_data.get("stores") or (),
            regions=form.cleaned_data.get("regions") or (),
        )

    def has_delete_permission(self, request, obj=None):
        # Deleting a profile would leave the old role's groups and flags on the user: change the
        # role, or deactivate the user, instead.
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "weight", "display_order", "active"]
    list_editable = ["weight", "display_order", "active"]
    readonly_fields = ["code"]


@admin.register(CategoryScore)
class CategoryScoreAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["store", "category", "week", "score", "responses", "source"]
    list_filter = ["source", "category", "store__region"]
    search_fields = ["store__code", "store__name"]
    date_hierarchy = "week"
    list_select_related = ["store", "category"]
    raw_id_fields = ["store"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "category", "display_order", "active"]
    list_filter = ["category", "active"]


class AnswerInline(ReadOnlyMixin, admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["question"]


@admin.register(QuestionnaireSubmission)
class SubmissionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "store", "week", "submitted_at", "submitted_by"]
    list_filter = ["store__region"]
    date_hierarchy = "week"
    list_select_related = ["store", "submitted_by"]
    inlines = [AnswerInline]


@admin.register(MetricReading)
class MetricReadingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["store", "week", "metric", "value", "sample_size"]
    list_filter = ["metric"]
    date_hierarchy = "week"
    list_select_related = ["store"]


@admin.register(KpiReading)
class KpiReadingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["store", "week", "kpi", "value", "updated_at"]
    list_filter = ["kpi", "store__region"]
    date_hierarchy = "week"
    list_select_related = ["store"]
    search_fields = ["store__code"]


@admin.register(ScoreChange)
class ScoreChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Who changed which scores, when and through what: for admins to read, never to edit."""

    list_display = ["at", "kind", "via", "by", "week_from", "week_to", "rows", "summary"]
    list_filter = ["kind", "via"]
    search_fields = ["by__username", "summary"]
    date_hierarchy = "at"
    list_select_related = ["by"]
    filter_horizontal = ["stores"]


@admin.register(PulseLink)
class PulseLinkAdmin(admin.ModelAdmin):
    """Links are made and rotated from the store's pulse page; here they are only looked up."""

    list_display = ["store", "audience", "created_at", "retired_at"]
    list_filter = ["audience"]
    search_fields = ["store__code", "store__name"]
    list_select_related = ["store"]
    readonly_fields = ["store", "audience", "token", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(PulseDevice)
class PulseDeviceAdmin(admin.ModelAdmin):
    """Devices are added on the store's pulse page, which shows the key once."""

    list_display = ["name", "store", "created_at", "created_by", "retired_at"]
    search_fields = ["name", "store__code"]
    list_select_related = ["store", "created_by"]
    readonly_fields = ["store", "key_digest", "created_at", "created_by"]

    def has_add_permission(self, request):
        return False
