"""The pulse API for kiosks and integrations: a device key per store (added on the store's pulse
page) instead of a user. `Authorization: Device <key>`."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Audience
from ..weeks import week_label, week_start
from . import access, guard, selectors, services
from .models import PulseDevice


class DeviceAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"device":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_('send "Authorization: Device <key>"'))
        device = access.device_by_key(parts[1].decode(errors="replace"))
        if device is None:
            raise exceptions.AuthenticationFailed(_("unknown or switched-off device key"))
        return AnonymousUser(), device

    def authenticate_header(self, request):
        return "Device"


class DeviceScheme(OpenApiAuthenticationExtension):
    target_class = DeviceAuthentication
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization"}


class IsDevice(permissions.BasePermission):
    message = gettext_lazy("a pulse device key is needed (Authorization: Device <key>)")

    def has_permission(self, request, view):
        return isinstance(request.auth, PulseDevice)


class DeviceView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]


class PulseQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField(source="category.code")
    text = serializers.CharField()
    lowest = serializers.IntegerField()
    highest = serializers.IntegerField(source="scale")


class QuestionsView(DeviceView):
    @extend_schema(responses=PulseQuestionSerializer(many=True))
    def get(self, request):
        """The questions to ask next at the device's store (?audience=customer|staff)."""
        audience = request.query_params.get("audience", Audience.CUSTOMER)
        if audience not in Audience.values:
            # Translators: followed by a list of codes, which stay as they are.
            choices = _("one of %(choices)s") % {"choices": ", ".join(Audience.values)}
            raise exceptions.ValidationError({"audience": choices})
        store = request.auth.store
        week = week_start(selectors.local_day(store))
        questions = selectors.choose_questions(store, audience, week)
        return Response(PulseQuestionSerializer(questions, many=True).data)


class AnswerSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.CUSTOMER)
    answers = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=10),
        allow_empty=False,
        # Translators: keep the JSON as it is.
        help_text=gettext_lazy('{"<question id>": answer, ...} on each question\'s scale'),
    )
    comment = serializers.CharField(
        max_length=settings.PULSE_COMMENT_CHARS, allow_blank=True, required=False, default=""
    )


class AnswerView(DeviceView):
    @extend_schema(
        request=AnswerSerializer,
        responses={
            201: {
                "type": "object",
                "properties": {"counted": {"type": "boolean"}, "week": {"type": "string"}},
            }
        },
    )
    def post(self, request):
        """One respondent's answers at the device's store. Over the device's daily cap they are
        kept but not counted ("counted": false), and the lead sees them flagged."""
        device = request.auth
        if guard.refused(request, device.store, device):
            raise exceptions.Throttled(detail=_("too many answers from this device; slow down"))
        form = AnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            answers = {int(q): v for q, v in data["answers"].items()}
        except ValueError:
            raise exceptions.ValidationError(
                {"answers": _("question ids are whole numbers")}
            ) from None
        day = selectors.local_day(device.store)
        submission = services.submit_pulse(
            store=device.store,
            audience=data["audience"],
            answers=answers,
            comment=data["comment"],
            channel="device",
            counted=guard.counts_today(request, device.store, day, device),
            week=week_start(day),
        )
        return Response(
            {"counted": submission.counted, "week": week_label(submission.week)},
            status=status.HTTP_201_CREATED,
        )
