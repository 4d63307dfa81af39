"""What the score and KPI imports share: who may import, how big a body may be, and the answer."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response

from config.api import RequestTooLarge


def upload_limit_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


def too_large() -> RequestTooLarge:
    return RequestTooLarge(
        f"An import is at most {settings.IMPORT_MAX_UPLOAD_MB} MB through the API; larger files "
        "go through `python manage.py import_scores FILE` (or import_kpis) on the server."
    )


class ImportPermission(permissions.BasePermission):
    """Who may import; for them, a body over IMPORT_MAX_UPLOAD_MB is refused (413) here, from its
    Content-Length, before the body is read or parsed (JSON rows and CSV files alike)."""

    def has_permission(self, request, view):
        if not request.user.has_perm("scoring.import_scores"):
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > upload_limit_bytes():
            raise too_large()
        return True


def check_upload_size(file) -> None:
    """The file's own size, for a body whose length was not declared up front."""
    if file is not None and file.size > upload_limit_bytes():
        raise too_large()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Imported",
            {
                "rows": 1,
                "created": 1,
                "updated": 0,
                "unchanged": 0,
                "dry_run": False,
                "errors": [],
                "error_count": 0,
            },
            response_only=True,
        )
    ]
)
class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    errors = serializers.ListField(
        child=serializers.CharField(),
        help_text='"line N: reason" for the first IMPORT_MAX_ERRORS bad rows, then "... and N '
        'more rows with errors" when there were more',
    )
    error_count = serializers.IntegerField(help_text="every bad row, listed or not")


def error_lines(result) -> list[str]:
    """The kept row errors as text, and a last line counting the rest."""
    lines = [str(e) for e in result.errors]
    more = result.error_count - len(result.errors)
    return lines + ([f"... and {more:,} more rows with errors"] if more else [])


def import_response(result) -> Response:
    """201 with the counts (200 for a dry run), or a 400 listing the first IMPORT_MAX_ERRORS bad
    rows and counting the rest."""
    body = ImportResultSerializer({**result.__dict__, "errors": error_lines(result)}).data
    if not result.ok:
        return Response(
            {
                "error": {
                    "status": 400,
                    "code": "invalid_rows",
                    "detail": f"{result.error_count:,} bad rows; nothing was imported.",
                    "fields": {"rows": body["errors"]},
                    "error_count": result.error_count,
                }
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response(body, status=status.HTTP_200_OK if result.dry_run else status.HTTP_201_CREATED)
