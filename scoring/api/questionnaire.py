"""Questionnaire responses in: one store, one week, any number of respondents."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from config.api import WeekField

from .. import services
from ..access import stores_visible_to
from ..weeks import week_start


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
    store = serializers.CharField(help_text="store code")
    week = WeekField()
    responses = serializers.ListField(
        child=serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5)),
        min_length=1,
        max_length=5000,
        help_text='one object per respondent: {"<question id>": 1-5, ...}',
    )


class QuestionnaireViewSet(viewsets.GenericViewSet):
    serializer_class = QuestionnaireSerializer

    @extend_schema(
        responses={201: {"type": "object", "properties": {"saved": {"type": "integer"}}}}
    )
    def create(self, request):
        """Submit questionnaire responses for one of your stores and a week."""
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        store = get_object_or_404(stores_visible_to(request.user), code=data["store"])
        try:
            responses = [{int(q): v for q, v in r.items()} for r in data["responses"]]
        except ValueError:
            raise ValidationError({"responses": "question ids are whole numbers"}) from None
        if data["week"] > week_start(timezone.localdate()):
            raise ValidationError({"week": "the week is in the future"})
        saved = services.submit_responses(store=store, week=data["week"], responses=responses)
        return Response({"saved": saved}, status=status.HTTP_201_CREATED)
