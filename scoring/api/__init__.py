"""The scoring half of /api/v1/: the chain, categories, scores in (import, questionnaire) and
ROR out. Every queryset comes from `scoring.access`, so another store's object is a 404.

- `chain`: regions and stores, with their ROR, trends, quadrant, distribution and movement
- `taxonomy`: categories and questions
- `scores`: category scores and their import
- `questionnaire`: questionnaire responses in
- `kpis`: store KPIs and the chain's sales drivers
"""

from .chain import RegionViewSet, StoreViewSet
from .kpis import DriversView, KpiViewSet
from .questionnaire import QuestionnaireViewSet
from .scores import ScoreViewSet
from .taxonomy import CategoryViewSet, QuestionViewSet

__all__ = [
    "CategoryViewSet",
    "DriversView",
    "KpiViewSet",
    "QuestionViewSet",
    "QuestionnaireViewSet",
    "RegionViewSet",
    "ScoreViewSet",
    "StoreViewSet",
]
