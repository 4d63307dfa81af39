"""Categories and questions: the chain-wide taxonomy every signed-in user reads."""

from rest_framework import mixins, permissions, serializers, viewsets

from config.api import CodeField, ScopedQuerysetMixin

from ..access import categories_for, questions_for
from ..models import Category, Question


class ReadOrModelPermission(permissions.DjangoModelPermissions):
    """Anyone signed in reads; writes need the model permission (admins hold it)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name", "description", "weight", "display_order", "active"]
        read_only_fields = ["code"]


class CategoryViewSet(
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone reads the eight categories; admins change names, weights, order and activity."""

    serializer_class = CategorySerializer
    permission_classes = [ReadOrModelPermission]
    scope = staticmethod(categories_for)
    lookup_field = "code"


class QuestionSerializer(serializers.ModelSerializer):
    category = CodeField(slug_field="code", read_only=True)

    class Meta:
        model = Question
        fields = ["id", "category", "text", "audience", "scale", "display_order"]


class QuestionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = QuestionSerializer
    scope = staticmethod(questions_for)
