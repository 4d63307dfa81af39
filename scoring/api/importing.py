"""What the score and KPI imports share: who may import, and the body of the answer."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response


class ImportPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("scoring.import_scores")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Imported",
            {"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "dry_run": False, "errors": []},
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
    errors = serializers.ListField(child=serializers.CharField())


def import_response(result) -> Response:
    """201 with the counts (200 for a dry run), or a 400 listing every bad row."""
    body = ImportResultSerializer(
        {**result.__dict__, "errors": [str(e) for e in result.errors]}
    ).data
    if not result.ok:
        return Response(
            {
                "error": {
                    "status": 400,
                    "code": "invalid_rows",
                    "detail": f"{len(result.errors)} bad rows; nothing was imported.",
                    "fields": {"rows": body["errors"]},
                }
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response(body, status=status.HTTP_200_OK if result.dry_run else status.HTTP_201_CREATED)
