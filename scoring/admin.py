from django.contrib import admin

from .models import (
    Answer,
    Category,
    CategoryScore,
    KpiReading,
    MetricReading,
    Profile,
    Question,
    Region,
    Store,
)
from .models import Submission as QuestionnaireSubmission


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "timezone"]
    list_filter = ["region"]
    search_fields = ["code", "name"]
    list_select_related = ["region"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email"]
    filter_horizontal = ["stores", "regions"]
    list_select_related = ["user"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "weight", "display_order", "active"]
    list_editable = ["weight", "display_order", "active"]
    readonly_fields = ["code"]


@admin.register(CategoryScore)
class CategoryScoreAdmin(admin.ModelAdmin):
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


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["question"]


@admin.register(QuestionnaireSubmission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "week", "submitted_at"]
    list_filter = ["store__region"]
    date_hierarchy = "week"
    list_select_related = ["store"]
    inlines = [AnswerInline]


@admin.register(MetricReading)
class MetricReadingAdmin(admin.ModelAdmin):
    list_display = ["store", "week", "metric", "value", "sample_size"]
    list_filter = ["metric"]
    date_hierarchy = "week"
    list_select_related = ["store"]


@admin.register(KpiReading)
class KpiReadingAdmin(admin.ModelAdmin):
    list_display = ["store", "week", "kpi", "value", "updated_at"]
    list_filter = ["kpi", "store__region"]
    date_hierarchy = "week"
    list_select_related = ["store"]
    search_fields = ["store__code"]
