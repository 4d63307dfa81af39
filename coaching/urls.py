from django.urls import path

from .goals import views as goals
from .modules import studio
from .modules import views as modules
from .nudges import views as nudges
from .plans import views as plans
from .preferences import views as preferences
from .replies import views as replies
from .tracking import views as tracking

urlpatterns = [
    path("week/", plans.this_week, name="week"),
    path("plans/", plans.plan_archive, name="plans"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan"),
    path("plans/<int:pk>/replies/", replies.plan_reply, name="plan-reply"),
    path("tips/<int:pk>/feedback/", plans.tip_feedback, name="tip-action"),
    path("goals/", goals.goal_list, name="goals"),
    path("goals/<int:pk>/edit/", goals.goal_edit, name="goal-edit"),
    path("goals/<int:pk>/drop/", goals.goal_drop, name="goal-drop"),
    path("modules/", modules.module_list, name="modules"),
    path("modules/<slug:slug>/", modules.module_detail, name="module"),
    path("regions/", tracking.region_index, name="regions"),
    path("regions/<slug:code>/", tracking.region_dashboard, name="region"),
    path("regions/<slug:code>/history.csv", tracking.region_history_csv, name="region-history-csv"),
    path("regions/<slug:code>/impact.csv", tracking.region_impact_csv, name="region-impact-csv"),
    # Before the store page: its `path` converter would take "CODE/nudge" for a store code.
    path("stores/<path:code>/nudge/", nudges.store_nudge, name="store-nudge"),
    # `path`: a store code holding "/" still has a page (and its region's dashboard a link to it).
    path("stores/<path:code>/", tracking.store_detail, name="store"),
    path("settings/", preferences.settings_page, name="settings"),
    path("studio/", studio.module_index, name="studio"),
    path("studio/new/", studio.module_create, name="studio-new"),
    path("studio/draft/", studio.module_draft, name="studio-draft"),
    path("studio/preview/", studio.preview, name="studio-preview"),
    path("studio/<int:pk>/", studio.module_edit, name="studio-edit"),
    path("studio/<int:pk>/<str:action>/", studio.module_transition, name="studio-transition"),
]
