"""Managers' goals, training modules, weekly coaching plans and their tips, and the LLM call log."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from scoring.models import Category, Store
from scoring.weeks import week_label

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Goal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACHIEVED = "achieved", _("Achieved")
        MISSED = "missed", _("Missed")
        DROPPED = "dropped", _("Dropped")

    class Kind(models.TextChoices):
        # A goal raises a score to its target; a "hold" goal keeps a strong score at or above it.
        RAISE = "raise", _("Raise to")
        HOLD = "hold", _("Hold at or above")

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="goals")
    store = models.ForeignKey(Store, models.CASCADE, related_name="goals")
    category = models.ForeignKey(Category, models.PROTECT, related_name="goals")
    target_score = models.DecimalField(max_digits=4, decimal_places=1, validators=PERCENT)
    due_date = models.DateField()
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.RAISE)
    intent = models.TextField(max_length=500, blank=True, help_text="In the manager's words")
    baseline_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date"]
        indexes = [models.Index(fields=["manager", "status"], name="goal_manager_status")]

    def __str__(self) -> str:
        return f"{self.category} to {self.target_score} by {self.due_date}"


class TrainingModule(models.Model):
    """The trainer's working copy. Readers get the latest published `ModuleVersion`, so editing a
    published module never changes what a completion was made on."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Level(models.TextChoices):
        FOUNDATION = "foundation", _("Foundation")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    category = models.ForeignKey(Category, models.PROTECT, related_name="modules")
    secondary_category = models.ForeignKey(
        Category, models.PROTECT, null=True, blank=True, related_name="secondary_modules"
    )
    summary = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown; each '## ' heading starts a section")
    minutes = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(1)])
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.FOUNDATION)
    quiz = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="modules"
    )
    ai_draft = models.BooleanField(default=False, help_text="Began as a draft the AI wrote")
    # Who last changed the content: with four-eyes review on, someone else must publish it.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    template_draft = models.BooleanField(
        default=False, help_text="Began as a draft from the built-in template (no AI answered)"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    # A language version points at the module it translates; recommendations prefer the reader's.
    translation_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="translations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__display_order", "title"]
        permissions = [("publish_trainingmodule", "Can publish and archive training modules")]

    def __str__(self) -> str:
        return self.title


class ModuleVersion(models.Model):
    """What was published as one version of a module: what managers read and complete."""

    module = models.ForeignKey(TrainingModule, models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=300)
    body = models.TextField()
    minutes = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=12, choices=TrainingModule.Level.choices)
    quiz = models.JSONField(default=list)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["module", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["module", "version"], name="module_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ModuleCompletion(models.Model):
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="module_completions"
    )
    module = models.ForeignKey(TrainingModule, models.CASCADE, related_name="completions")
    version = models.ForeignKey(ModuleVersion, models.PROTECT, related_name="completions")
    # The manager's store when they completed it: what their regional lead sees it under.
    store = models.ForeignKey(
        Store, models.SET_NULL, null=True, blank=True, related_name="module_completions"
    )
    score = models.PositiveSmallIntegerField(validators=PERCENT, help_text="% of quiz correct")
    answers = models.JSONField(default=list)
    # A retake updates the row: the latest score and answers, the best score, and how many tries.
    best_score = models.PositiveSmallIntegerField(validators=PERCENT, default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "version"], name="one_completion_per_manager_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager} completed {self.version}"


class WeeklyPlan(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FALLBACK = "fallback"  # the playbook coach stood in for the LLM; see fallback_reason
        FAILED = "failed"

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="plans")
    store = models.ForeignKey(Store, models.CASCADE, related_name="plans")
    week = models.DateField(help_text="Monday of the coaching week")
    data_week = models.DateField(null=True, blank=True, help_text="Week of the scores used")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    focus = models.JSONField(default=list, blank=True)
    fallback_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A run reserves a plan before it asks the LLM, so two runs never pay for one plan twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "store", "week"], name="one_plan_per_manager_store_week"
            )
        ]
        indexes = [models.Index(fields=["week", "status"], name="plan_week_status")]

    def __str__(self) -> str:
        return f"{self.store.code} {week_label(self.week)} ({self.status})"


class CoachingTip(models.Model):
    class Followup(models.TextChoices):
        WORKED = "worked", _("Worked")
        PARTLY = "partly", _("Partly")
        DID_NOT = "did_not", _("did not work")

    plan = models.ForeignKey(WeeklyPlan, models.CASCADE, related_name="tips")
    category = models.ForeignKey(Category, models.PROTECT, related_name="tips")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=120)
    why = models.TextField()
    steps = models.JSONField(default=list)
    module = models.ForeignKey(
        TrainingModule, models.SET_NULL, null=True, blank=True, related_name="tips"
    )
    practice_key = models.CharField(max_length=80, blank=True, help_text="playbook practice used")
    done_at = models.DateTimeField(null=True, blank=True)
    helpful = models.BooleanField(null=True, blank=True)
    dismissed_reason = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    # Four weeks after a tip is done the manager is asked whether it worked.
    followup_answer = models.CharField(max_length=10, choices=Followup.choices, blank=True)
    followup_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "order"]

    def __str__(self) -> str:
        return self.title


class PlanReply(models.Model):
    """A regional lead's answer to a store's weekly plan: a reply, or recognition of the manager.
    The manager reads it on their week page; `seen_at` marks when they first did."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        RECOGNITION = "recognition", _("Recognition")

    plan = models.ForeignKey(WeeklyPlan, models.CASCADE, related_name="replies")
    tip = models.ForeignKey(
        CoachingTip, models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="plan_replies"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REPLY)
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["plan", "created_at"], name="reply_plan_created")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.plan}"


class LLMCall(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok"
        INVALID = "invalid"  # not JSON, broke the schema, refused, truncated, or ungrounded
        TRANSIENT = "transient"  # 429, 5xx, timeout, connection: worth retrying
        ERROR = "error"  # anything else: not worth retrying

    plan = models.ForeignKey(
        WeeklyPlan, models.SET_NULL, null=True, blank=True, related_name="llm_calls"
    )
    purpose = models.CharField(max_length=20, default="weekly_plan")  # or module_draft
    module = models.ForeignKey(
        TrainingModule, models.SET_NULL, null=True, blank=True, related_name="llm_calls"
    )
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField(default=1)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    # Of tokens_in, those the provider served from its prompt cache (usage.prompt_tokens_details).
    cached_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="llmcall_created")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.outcome}"


class LeadSummary(models.Model):
    """A regional lead's weekly summary email, sent once per lead and week."""

    lead = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="summaries")
    week = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "week"], name="one_summary_per_lead_week")
        ]

    def __str__(self) -> str:
        return f"{self.lead} {week_label(self.week)}"


class Nudge(models.Model):
    """A mid-week reminder sent to a manager about open tips: at most one scheduled per manager,
    store and week (the constraint makes a redelivered task a no-op), and a lead's by hand."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled"
        LEAD = "lead"

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="nudges")
    store = models.ForeignKey(Store, models.CASCADE, related_name="nudges")
    week = models.DateField(help_text="Monday of the coaching week")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SCHEDULED)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    open_tips = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "store", "week"],
                condition=models.Q(kind="scheduled"),
                name="one_scheduled_nudge_per_week",
            )
        ]
        indexes = [models.Index(fields=["store", "created_at"], name="nudge_store_created")]

    def __str__(self) -> str:
        return f"{self.kind} nudge to {self.manager} ({self.week})"
