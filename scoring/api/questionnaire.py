"""Questionnaire responses in: one store, one week, a bounded number of respondents."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.response import Response

from config.api import WeekField

from .. import services
from ..access import stores_open_to_submissions_by


class SubmitPermission(permissions.BasePermission):
    """Holders of `scoring.submit_responses`: admins and integration accounts."""

    message = gettext_lazy("only admins and integration accounts submit questionnaire responses")

    def has_permission(self, request, view):
        return request.user.has_perm("scoring.submit_responses")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two respondents",
            {
                "store": "S001",
                "week": "2026-W47",
                "responses": [{"1": 4, "2": 5}, {"1": 3, "2": 4}],
            },
            request_only=True,
        )
    ]
)
class QuestionnaireSerializer(serializers.Serializer):
    store = serializers.CharField(help_text=gettext_lazy("store code"))
    week = WeekField(
        # Translators: SCORE_BACKDATE_WEEKS is the name of a setting; keep it as it is.
        help_text=gettext_lazy("no future week, none more than SCORE_BACKDATE_WEEKS back")
    )
    responses = serializers.ListField(
        child=serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5)),
        min_length=1,
        max_length=settings.SCORE_MAX_RESPONDENTS,
        # Translators: keep the JSON as it is.
        help_text=gettext_lazy('one object per respondent: {"<question id>": 1-5, ...}'),
    )


class QuestionnaireViewSet(viewsets.GenericViewSet):
    """Questionnaire responses in.

    Who may submit: holders of the `scoring.submit_responses` permission, that is admins (the
    Administrators group, and superusers) and integration accounts (a user in the "Integrations"
    group, created by migration 0004, calling with its API token), for any store of the chain.
    Store managers and regional leads may not: they are judged on these scores. Every submission
    records who sent it (`Submission.submitted_by` and a `ScoreChange`); a call carries at most
    `SCORE_MAX_RESPONDENTS` respondents and no week more than `SCORE_BACKDATE_WEEKS` back.
    """

    serializer_class = QuestionnaireSerializer
    permission_classes = [permissions.IsAuthenticated, SubmitPermission]

    @extend_schema(
        responses={201: {"type": "object", "properties": {"saved": {"type": "integer"}}}}
    )
    def create(self, request):
        """Submit questionnaire responses for a store and a week (admins and integrations)."""
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        store = get_object_or_404(stores_open_to_submissions_by(request.user), code=data["store"])
        try:
            responses = [{int(q): v for q, v in r.items()} for r in data["responses"]]
        except ValueError:
            raise ValidationError({"responses": _("question ids are whole numbers")}) from None
        saved = services.submit_responses(
            store=store, week=data["week"], responses=responses, by=request.user, via="api"
        )
        return Response({"saved": saved}, status=status.HTTP_201_CREATED)
