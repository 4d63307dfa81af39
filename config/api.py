"""What every API endpoint shares: the scoped queryset, the fields for codes and weeks, query
parameters, pagination, one error body, and service errors as 4xx."""

import datetime as dt
import traceback
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scoring.weeks import parse_week, week_label


class ScopedQuerysetMixin:
    # The only `get_queryset` of the API. A viewset declares `scope`, a function of an access
    # module that answers "which rows may this user see", so no endpoint can forget to scope, and
    # the web pages read through the same functions:
    #
    #     class PlanViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    #         scope = staticmethod(plans_visible_to)
    #
    # (A comment, not a docstring: drf-spectacular would show a docstring as the description of
    # every endpoint that has none of its own.)

    scope: Callable[..., QuerySet]

    def get_queryset(self) -> QuerySet:
        return self.scope(self.request.user)


@extend_schema_field({"type": "string", "example": "2026-W48"})
class WeekField(serializers.Field):
    """An ISO week in and out: "2026-W48" (any date in the week is accepted too)."""

    default_error_messages = {
        # Translators: {reason} says what is wrong with the week given; keep it as it is.
        "invalid": gettext_lazy("Expected an ISO week such as 2026-W48: {reason}")
    }

    def to_internal_value(self, data) -> dt.date:
        try:
            return parse_week(str(data))
        except ValueError as exc:
            self.fail("invalid", reason=exc)

    def to_representation(self, value: dt.date) -> str:
        return week_label(value)


def int_param(request, name: str, *, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within bounds; anything else is a 400 that says why."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        # Translators: the name of a query parameter, as it is in the URL ("horizon").
        message = _("%(name)s must be a whole number") % {"name": name}
        raise DjangoValidationError({name: message}) from None
    if not low <= value <= high:
        # Translators: the name of a query parameter, as it is in the URL ("horizon").
        message = _("%(name)s must be between %(low)s and %(high)s")
        raise DjangoValidationError({name: message % {"name": name, "low": low, "high": high}})
    return value


def week_param(request) -> dt.date | None:
    """The optional `week` query parameter as the Monday of that ISO week."""
    raw = request.query_params.get("week")
    if not raw:
        return None
    try:
        return parse_week(raw)
    except ValueError as exc:
        raise DjangoValidationError({"week": str(exc)}) from None


class CodeField(serializers.SlugRelatedField):
    """A related object by its code or slug; text no code can hold is refused before the query."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = gettext_lazy("The request body is too large.")


def _hostile_body(exc) -> exceptions.APIException | None:
    """A body no parser should try: too big, too many fields, or JSON nested so deep that
    parsing it runs out of stack (a RecursionError raised while parsing, not elsewhere)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "The request body is over the limit of %(limit)s bytes.",
                "The request body is over the limit of %(limit)s bytes.",
                limit,
            )
            % {"limit": limit}
        )
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return exceptions.ParseError(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "The request holds more than %(limit)s fields.",
                "The request holds more than %(limit)s fields.",
                limit,
            )
            % {"limit": limit},
            code="too_many_fields",
        )
    if isinstance(exc, RecursionError) and any(
        frame.f_globals.get("__name__", "").startswith(("json", "rest_framework.parsers"))
        for frame, _lineno in traceback.walk_tb(exc.__traceback__)
    ):
        return exceptions.ParseError(_("JSON parse error - the data is nested too deeply."))
    return None


def exception_handler(exc, context):
    """Every error answers `{"error": {"status", "code", "detail", "fields"?}}`.

    Services raise Django's ValidationError and PermissionDenied; they become 400 and 403 here, so
    a rule broken deep in a service is a clear 4xx, never a 500. A hostile body (too big, too
    many fields, nested too deep) is a 413 or 400 in the same shape, never Django's HTML page.
    """
    exc = _hostile_body(exc) or exc
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DataError):
        # Input the database refuses (PostgreSQL rejects NUL characters in text, say) is a bad
        # request, whichever field or URL it came in through.
        exc = exceptions.ValidationError(
            {"non_field_errors": [_("the request holds invalid data")]}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    error = {"status": response.status_code, "code": _code(exc)}
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        error["detail"] = _("The request is not valid; see fields.")
        error["fields"] = data if isinstance(data, dict) else {"non_field_errors": data}
    else:
        error["detail"] = data.get("detail", data) if isinstance(data, dict) else data
    response.data = {"error": error}
    return response


def _code(exc) -> str:
    codes = getattr(exc, "get_codes", lambda: None)()
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


# The 202 of an analysis that is not ready yet (`computed_response`).
COMPUTING = OpenApiResponse(
    response={
        "type": "object",
        "properties": {"status": {"type": "string"}, "detail": {"type": "string"}},
    },
    description="Being computed off the request path; ask again shortly.",
)


def computed_response(result, serializer_class) -> Response:
    """An analysis computed off the request path (`scoring.offline`): its data with when it was
    computed and whether a newer one is on its way; 202 while there is none yet."""
    if result.value is None:
        return Response(
            {
                "status": "computing",
                "detail": _("the analysis is being computed; ask again shortly"),
            },
            status=202,
        )
    data = serializer_class(result.value).data
    data["computed_at"] = result.computed_at
    data["computing"] = result.computing
    return Response(data)
