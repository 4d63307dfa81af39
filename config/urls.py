from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle

from coaching.goals.api import GoalViewSet
from coaching.modules.api import CompletionViewSet, ModuleViewSet
from coaching.plans.api import PlanViewSet, TipViewSet
from coaching.tracking.api import EngagementViewSet, ImpactView, ProgressViewSet
from scoring import api as scoring_api
from scoring import views as scoring_views
from scoring.pulse import api as pulse_api
from scoring.pulse import views as pulse_views
from scoring.services import api_token

from . import views
from .auth import token_expired
from .health import health

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
router.register("goals", GoalViewSet, basename="goal")
router.register("plans", PlanViewSet, basename="plan")
router.register("tips", TipViewSet, basename="tip")
router.register("modules", ModuleViewSet, basename="module")
router.register("completions", CompletionViewSet, basename="completion")
router.register("progress", ProgressViewSet, basename="progress")
router.register("engagement", EngagementViewSet, basename="engagement")


class TokenView(ObtainAuthToken):
    """Trade a username and password for the user's API token (rate-limited per client)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # A token past API_TOKEN_MAX_AGE_DAYS is replaced, not handed out again.
        expired = any(token_expired(token) for token in Token.objects.filter(user=user))
        return Response({"token": api_token(user, rotate=expired)})


# Swagger UI's page carries a small inline <style>; its scripts stay same-origin files.
swagger_ui = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)


def api_docs(request, *args, **kwargs):
    """Swagger UI; unless API_DOCS_PUBLIC, a visitor who is not signed in goes to the login page
    (the schema itself answers 401 through config.auth.ApiDocsPermission)."""
    if not (settings.API_DOCS_PUBLIC or request.user.is_authenticated):
        return redirect_to_login(request.get_full_path())
    return swagger_ui(request, *args, **kwargs)


urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("health/", health, name="health"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email, Django's own views; the form answers the same whether or not an
    # account has that address, and the last step also lifts a login lockout (config.views).
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("about/", views.about, name="about"),
    path("import/", scoring_views.import_page, name="import"),
    # Public: the questionnaire behind a store's QR code or link, and a kiosk's.
    path("p/<str:token>/", pulse_views.answer, name="pulse-answer"),
    path("k/<str:key>/", pulse_views.kiosk, name="pulse-kiosk"),
    path("pulse/", include("scoring.pulse.urls")),
    path("", include("coaching.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/drivers/", scoring_api.DriversView.as_view(), name="drivers"),
    path("api/v1/impact/", ImpactView.as_view(), name="impact"),
    path("api/v1/pulse/questions/", pulse_api.QuestionsView.as_view(), name="pulse-questions"),
    path("api/v1/pulse/answers/", pulse_api.AnswerView.as_view(), name="pulse-answers"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="swagger-ui"),
]
