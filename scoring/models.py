"""The chain (regions, stores, who looks after them) and what is measured about each store."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from .weeks import week_label


class Region(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    # Store codes go into URLs (reversed with the code) and CSV files: letters, digits, "_", "."
    # and "-", starting with a letter or digit (so never "/" nor a spreadsheet formula).
    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z",
                "A store code is 1-40 letters, digits, _, . or -, starting with a letter or digit.",
            )
        ],
    )
    name = models.CharField(max_length=120)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="stores")
    timezone = models.CharField(max_length=64, default="UTC")
    # What its managers read unless they choose otherwise, and its pulse questionnaire's default.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Role(models.TextChoices):
    STORE_MANAGER = "store_manager", gettext_lazy("Store manager")
    REGIONAL_LEAD = "regional_lead", gettext_lazy("Regional lead")
    TRAINER = "trainer", gettext_lazy("Trainer")
    ADMIN = "admin", gettext_lazy("Administrator")


class Profile(models.Model):
    """A user's role in the chain and the part of it they look after.

    Managers are tied to stores, leads to regions. Permissions come from the Django group of the
    same role (kept in step by `scoring.services.assign_role`); this row says *where* they apply.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    stores = models.ManyToManyField(Store, blank=True, related_name="managers")
    regions = models.ManyToManyField(Region, blank=True, related_name="leads")
    # Blank: the language of the user's store, else the browser's (`scoring.languages`).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)
    nudges = models.BooleanField(
        default=True, help_text="A mid-week reminder when this week's tips are still open"
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Category(models.Model):
    """One of the eight ROR categories. Weights are relative: ROR normalises them over the
    categories present in a week, so they need not sum to 1 here."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    weight = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name in the active language: the catalogue knows the eight standard ones."""
        return gettext(self.name)


class Source(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    METRIC = "metric", "Metric feed"
    IMPORT = "import", "Import"


class CategoryScore(models.Model):
    """A store's 0-100 score in one category for one ISO week, from one source.

    `responses` is the sample size behind the score; null means the source did not report one.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="scores")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="scores")
    week = models.DateField(help_text="Monday of the ISO week")
    score = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    responses = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.IMPORT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "category", "week", "source"], name="unique_score_per_source"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="score_between_0_and_100"
            ),
        ]
        indexes = [models.Index(fields=["week", "category"], name="score_week_category")]
        permissions = [("import_scores", "Can import score files")]

    def __str__(self) -> str:
        return f"{self.store.code} {self.category.code} {week_label(self.week)}: {self.score}"


class Audience(models.TextChoices):
    CUSTOMER = "customer", gettext_lazy("Customers")
    STAFF = "staff", gettext_lazy("Team")


class Scale(models.IntegerChoices):
    AGREE = 5, "1 (strongly disagree) to 5 (strongly agree)"
    LIKELY = 10, "0 (not at all likely) to 10 (extremely likely)"


class Question(models.Model):
    """A questionnaire item, answered by customers or by the team on its `scale`."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=240)
    # {"fr": "...", "es": "..."}: the text in other languages; missing ones use the catalogue.
    translations = models.JSONField(default=dict, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.CUSTOMER)
    scale = models.PositiveSmallIntegerField(choices=Scale.choices, default=Scale.AGREE)
    display_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__display_order", "display_order"]

    def __str__(self) -> str:
        return self.text

    @property
    def label(self) -> str:
        """The question in the active language."""
        return self.translations.get((get_language() or "en")[:2]) or gettext(self.text)

    @property
    def lowest(self) -> int:
        return 0 if self.scale == Scale.LIKELY else 1


class Submission(models.Model):
    """One respondent's filled-in questionnaire for a store and week (anonymous by design)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="submissions")
    week = models.DateField()
    # Pulse answers keep only the day (midnight UTC): in a small team the minute someone answered
    # can say who it was.
    submitted_at = models.DateTimeField(default=timezone.now)
    # Who sent it in (an admin or an integration account), never the respondent; null for
    # system writes and for rows older than the field.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Pulse answers (scoring.pulse): who they come from, the respondent's scrubbed comment, and
    # whether they count (False: held back by a flood cap) and are already in the week's scores.
    audience = models.CharField(max_length=10, choices=Audience.choices, blank=True)
    channel = models.CharField(max_length=10, default="api")
    comment = models.TextField(blank=True)
    counted = models.BooleanField(default=True)
    rolled = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["store", "week"], name="submission_store_week"),
            models.Index(
                fields=["id"], condition=models.Q(rolled=False), name="submission_to_roll"
            ),
        ]
        permissions = [("submit_responses", "Can submit questionnaire responses")]

    def __str__(self) -> str:
        return f"Questionnaire {self.pk} for {self.store_id} in {week_label(self.week)}"


class Answer(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "question"], name="one_answer_per_question"
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0, value__lte=10), name="answer_between_0_and_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"

    @staticmethod
    def points() -> models.Case:
        """An answer's 0-100 points in SQL, as `maths.answer_points` computes them."""
        return models.Case(
            models.When(question__scale=Scale.LIKELY, then=models.F("value") * 10.0),
            default=(models.F("value") - 1) * 25.0,
            output_field=models.FloatField(),
        )


class MetricReading(models.Model):
    """A raw operational metric (NPS, CSAT, turnover...) for a store and week, kept as reported;
    its normalised 0-100 value lands in CategoryScore with source `metric`."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="metric_readings")
    week = models.DateField()
    metric = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=9, decimal_places=2)
    sample_size = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "week", "metric"], name="one_reading_per_week")
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.value} ({week_label(self.week)})"


class Kpi(models.TextChoices):
    SALES = "sales", "Sales"
    TRANSACTIONS = "transactions", "Transactions"
    STAFF_TURNOVER = "staff_turnover", "Staff turnover %"


class KpiReading(models.Model):
    """A store's business result for a week: what ROR is meant to lead."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="kpis")
    week = models.DateField(help_text="Monday of the ISO week")
    kpi = models.CharField(max_length=20, choices=Kpi.choices)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "week", "kpi"], name="one_kpi_per_store_week")
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.kpi} {self.week}: {self.value}"


class ChangeKind(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Questionnaire responses"
    SCORES = "scores", "Score import"
    KPIS = "kpis", "KPI import"
    METRICS = "metrics", "Metric readings"


class ScoreChange(models.Model):
    """The audit trail of every write that changes a score or a KPI: who, through what, when,
    which stores and weeks, how many rows. Written by the services, in the same transaction as the
    change; read-only in the admin."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="empty for system writes (commands, the demo)",
    )
    via = models.CharField(max_length=40, help_text='"api import", "web import", "command"...')
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    stores = models.ManyToManyField(Store, blank=True, related_name="+")
    week_from = models.DateField(null=True, blank=True)
    week_to = models.DateField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="rows created or changed")
    summary = models.CharField(max_length=240, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} via {self.via} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, *, kind: str, by, via: str, store_ids, weeks, rows: int, summary: str):
        """Write one audit row; call it inside the transaction of the change it records."""
        weeks = sorted(weeks)
        change = cls.objects.create(
            kind=kind,
            by=by,
            via=via[:40],
            week_from=weeks[0] if weeks else None,
            week_to=weeks[-1] if weeks else None,
            rows=rows,
            summary=summary[:240],
        )
        change.stores.set(sorted(set(store_ids)))
        return change


# The pulse room's own tables, imported here so Django finds them (they need Store above).
from .pulse.models import PulseDevice, PulseLink  # noqa: E402, F401
