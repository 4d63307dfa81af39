"""Writes of the pulse room: links and devices, answers in, answers rolled into scores.

Submitting only appends (a submission and its answers): no score row is locked on the answering
path, so a busy store's phones never wait on each other. The roll-up folds the new answers into
the week's questionnaire scores afterwards, in batches, for the store-weeks that got answers."""

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Mapping

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Answer, Audience, ChangeKind, ScoreChange, Store, Submission
from ..services import recompute_questionnaire_scores
from . import access
from .models import PulseDevice, PulseLink, digest
from .scrub import scrub


def link_for(store: Store, audience: str) -> PulseLink:
    """The store's live link for this audience, made on first use."""
    link = access.live_links(store).filter(audience=audience).first()
    return link or PulseLink.objects.create(store=store, audience=audience)


@transaction.atomic
def rotate_link(store: Store, audience: str) -> PulseLink:
    """Retire the live link (its printed QR codes stop working) and hand out a new one."""
    access.live_links(store).filter(audience=audience).update(retired_at=timezone.now())
    return PulseLink.objects.create(store=store, audience=audience)


def add_device(store: Store, *, name: str, by=None) -> tuple[PulseDevice, str]:
    """A kiosk or integration for the store, and its key, which is shown once and kept hashed."""
    name = " ".join(name.split())[:60]
    if not name:
        raise ValidationError({"name": _("give the device a name, such as 'Till 1 tablet'")})
    key = "pk_" + secrets.token_urlsafe(24)
    device = PulseDevice.objects.create(
        store=store, name=name, key_digest=digest(key), created_by=by
    )
    return device, key


def retire_device(device: PulseDevice) -> None:
    device.retired_at = timezone.now()
    device.save(update_fields=["retired_at"])


def check_answers(audience: str, answers: Mapping[int, int]) -> None:
    """Every answer is to an active question for this audience, on that question's scale."""
    if not answers:
        raise ValidationError(_("answer at least one question"))
    questions = {q.id: q for q in access.questions_for(audience).filter(id__in=list(answers))}
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise ValidationError(
                # Translators: the audience's code, "customer" or "staff", stays as it is.
                _("question %(question)s is not one of the %(audience)s questions")
                % {"question": question_id, "audience": audience}
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                _("question %(question)s: answer with a whole number") % {"question": question_id}
            )
        if not question.lowest <= value <= question.scale:
            raise ValidationError(
                _("question %(question)s: answer %(lowest)s to %(highest)s")
                % {"question": question_id, "lowest": question.lowest, "highest": question.scale}
            )


@transaction.atomic
def submit_pulse(
    *,
    store: Store,
    audience: str,
    answers: Mapping[int, int],
    comment: str = "",
    channel: str,
    counted: bool = True,
    week: dt.date,
) -> Submission:
    """One respondent's answers. Nothing about the respondent is kept: no user, address, device
    or browser; the comment is scrubbed of personal data before it is stored. `counted=False`
    keeps an answer that a flood cap held back out of the scores (the lead sees it as an
    anomaly)."""
    if audience not in Audience.values:
        raise ValidationError(
            # Translators: followed by a list of codes, which stay as they are.
            _("audience is one of %(choices)s") % {"choices": ", ".join(Audience.values)}
        )
    check_answers(audience, answers)
    submission = Submission.objects.create(
        store=store,
        week=week,
        audience=audience,
        channel=channel,
        comment=scrub(comment or "", limit=settings.PULSE_COMMENT_CHARS),
        counted=counted,
        rolled=False,
        submitted_at=timezone.now().replace(hour=0, minute=0, second=0, microsecond=0),
    )
    Answer.objects.bulk_create(
        [Answer(submission=submission, question_id=q, value=v) for q, v in answers.items()]
    )
    transaction.on_commit(schedule_roll)
    return submission


def schedule_roll() -> None:
    """Fold new answers into the scores: now when tasks run in-process (the embedded mode), else
    one Celery task per PULSE_ROLL_SECONDS however many answers arrive meanwhile."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        roll_answers()
    elif cache.add("pulse:roll-scheduled", 1, timeout=settings.PULSE_ROLL_SECONDS):
        # By name: the task (scoring.tasks) is a face over `roll_answers`, not imported here.
        current_app.send_task("scoring.tasks.roll_pulse", countdown=settings.PULSE_ROLL_SECONDS)


# Marks and returns in one statement (PostgreSQL, and SQLite 3.35+): exactly the rows this roll
# takes, including any committed a moment ago, so each one's store-week is recomputed.
_TAKE_PENDING = (
    "UPDATE scoring_submission SET rolled = %s WHERE rolled = %s RETURNING store_id, week"
)
STORES_PER_RECOMPUTE = 1000


def roll_answers() -> int:
    """Recompute the scores of the store-weeks with answers not yet rolled, once each; returns
    how many answers were folded in. An answer committed after the marking is left for the next
    roll, never lost; rolling twice changes nothing."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TAKE_PENDING, [True, False])
        taken = cursor.fetchall()
        stores_by_week: dict[str, set[int]] = defaultdict(set)
        for store_id, week in taken:
            stores_by_week[str(week)].add(store_id)
        for week, store_ids in stores_by_week.items():
            ordered = sorted(store_ids)
            for start in range(0, len(ordered), STORES_PER_RECOMPUTE):
                recompute_questionnaire_scores(
                    store_ids=ordered[start : start + STORES_PER_RECOMPUTE],
                    weeks=[dt.date.fromisoformat(week)],
                )
        if taken:  # the audit trail, whose newest id is also the version pages cache under
            ScoreChange.record(
                kind=ChangeKind.QUESTIONNAIRE,
                by=None,
                via="pulse",
                store_ids={store_id for store_id, _ in taken},
                weeks={dt.date.fromisoformat(str(w)) for _, w in taken},
                rows=len(taken),
                summary=f"{len(taken)} pulse answers rolled into the scores",
            )
    return len(taken)
