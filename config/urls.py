from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle

from coaching import api as coaching_api
from scoring import api as scoring_api

router = DefaultRouter()
router.register("regions", scoring_api.RegionViewSet, basename="region")
router.register("stores", scoring_api.StoreViewSet, basename="store")
router.register("categories", scoring_api.CategoryViewSet, basename="category")
router.register("questions", scoring_api.QuestionViewSet, basename="question")
router.register("scores", scoring_api.ScoreViewSet, basename="score")
router.register(
    "questionnaire-responses", scoring_api.QuestionnaireViewSet, basename="questionnaire"
)
router.register("kpis", scoring_api.KpiViewSet, basename="kpi")
router.register("goals", coaching_api.GoalViewSet, basename="goal")
router.register("plans", coaching_api.PlanViewSet, basename="plan")
router.register("tips", coaching_api.TipViewSet, basename="tip")
router.register("modules", coaching_api.ModuleViewSet, basename="module")
router.register("completions", coaching_api.CompletionViewSet, basename="completion")
router.register("progress", coaching_api.ProgressViewSet, basename="progress")
router.register("engagement", coaching_api.EngagementViewSet, basename="engagement")


class TokenView(ObtainAuthToken):
    """Trade a username and password for the user's API token (rate-limited per client)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/drivers/", scoring_api.DriversView.as_view(), name="drivers"),
    path("api/v1/impact/", coaching_api.ImpactView.as_view(), name="impact"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
