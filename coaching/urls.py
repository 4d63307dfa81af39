from django.urls import path

from .views import lead, manager, studio

urlpatterns = [
    path("week/", manager.this_week, name="week"),
    path("plans/", manager.plan_archive, name="plans"),
    path("plans/<int:pk>/", manager.plan_detail, name="plan"),
    path("tips/<int:pk>/feedback/", manager.tip_feedback, name="tip-action"),
    path("goals/", manager.goal_list, name="goals"),
    path("goals/<int:pk>/edit/", manager.goal_edit, name="goal-edit"),
    path("goals/<int:pk>/drop/", manager.goal_drop, name="goal-drop"),
    path("modules/", manager.module_list, name="modules"),
    path("modules/<slug:slug>/", manager.module_detail, name="module"),
    path("regions/", lead.region_index, name="regions"),
    path("regions/<slug:code>/", lead.region_dashboard, name="region"),
    path("regions/<slug:code>/history.csv", lead.region_history_csv, name="region-history-csv"),
    path("regions/<slug:code>/impact.csv", lead.region_impact_csv, name="region-impact-csv"),
    path("stores/<str:code>/", lead.store_detail, name="store"),
    path("studio/", studio.module_index, name="studio"),
    path("studio/new/", studio.module_create, name="studio-new"),
    path("studio/draft/", studio.module_draft, name="studio-draft"),
    path("studio/preview/", studio.preview, name="studio-preview"),
    path("studio/<int:pk>/", studio.module_edit, name="studio-edit"),
    path("studio/<int:pk>/<str:action>/", studio.module_transition, name="studio-transition"),
]
