"""What every API endpoint shares: one error body, pagination, and service errors as 4xx."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class CodeField(serializers.SlugRelatedField):
    """A related object by its code or slug; text no code can hold is refused before the query."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    """Every error answers `{"error": {"status", "code", "detail", "fields"?}}`.

    Services raise Django's ValidationError and PermissionDenied; they become 400 and 403 here, so
    a rule broken deep in a service is a clear 4xx, never a 500.
    """
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
        exc = exceptions.ValidationError({"non_field_errors": ["the request holds invalid data"]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    error = {"status": response.status_code, "code": _code(exc)}
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        error["detail"] = "The request is not valid; see fields."
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
