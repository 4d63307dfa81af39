"""The coaching and LLM settings, and the Celery beat schedule (read by `config.settings`).

Every knob comes from the environment, as in `config.settings`, which has already read `.env`.
"""

import environ
from celery.schedules import crontab

env = environ.Env()

# --- Coaching and the LLM ---------------------------------------------------------------------
# Active goals a manager may hold per store (each one goes into every weekly plan's prompt).
GOALS_PER_MANAGER = env.int("GOALS_PER_MANAGER", default=10)
# Training modules. Four-eyes review: nobody publishes content they last edited; the author submits
# it and another trainer or admin publishes it or sends it back (off: trainers publish directly).
MODULE_FOUR_EYES = env.bool("MODULE_FOUR_EYES", default=False)
# The quiz score (%) at or above which a manager has passed a module.
MODULE_PASS_MARK = env.int("MODULE_PASS_MARK", default=80)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)  # a plan taking over a minute has failed
# SDK-level retries stay at 0-1: the coaching batch and the Celery task own the backoff.
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=0)
# parse | json_schema | json_object | auto: servers differ in what they support. auto tries them in
# that order, moving on when the server refuses one, and keeps the first that works per server.
COACH_LLM_MODE = env.str("COACH_LLM_MODE", default="auto")
# Per answer: max_completion_tokens, and max_tokens beyond api.openai.com (a refused one is dropped).
COACH_MAX_COMPLETION_TOKENS = env.int("COACH_MAX_COMPLETION_TOKENS", default=1500)
# `playbook` or `openai`; empty: openai when a base URL or key is configured, else playbook.
COACH_LLM_PROVIDER = env.str("COACH_LLM_PROVIDER", default="")
COACH_LLM_CONCURRENCY = env.int("COACH_LLM_CONCURRENCY", default=32)
# Attempts per plan on 429/5xx/timeouts before the playbook coach stands in.
COACH_LLM_ATTEMPTS = env.int("COACH_LLM_ATTEMPTS", default=3)
COACH_LLM_BACKOFF_SECONDS = env.float("COACH_LLM_BACKOFF_SECONDS", default=2.0)
# USD per million tokens (input/output[/cached input]) for each logged call's cost, by model:
# COACH_PRICES="my-model=0.5/1.5/0.25,other=0/0" adds to or overrides OpenAI's list prices below
# (2026-11). A model not listed (a local server) costs COACH_PRICE_*_PER_MTOK: 0 unless set.
COACH_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
} | {
    name.strip(): tuple(float(p) for p in prices.split("/"))
    for name, prices in (
        pair.split("=") for pair in env.list("COACH_PRICES", default=[]) if "=" in pair
    )
}
COACH_PRICE_INPUT_PER_MTOK = env.float("COACH_PRICE_INPUT_PER_MTOK", default=0.0)
COACH_PRICE_OUTPUT_PER_MTOK = env.float("COACH_PRICE_OUTPUT_PER_MTOK", default=0.0)
# off | openai: the weekly batch's first questions through OpenAI's Batch API, awaited this long
# (looking every POLL s); plans not answered by then get the playbook's. docs/coaching.md.
COACH_LLM_BATCH = env.str("COACH_LLM_BATCH", default="off")
COACH_LLM_BATCH_DEADLINE_SECONDS = env.int("COACH_LLM_BATCH_DEADLINE_SECONDS", default=3600)
COACH_LLM_BATCH_POLL_SECONDS = env.int("COACH_LLM_BATCH_POLL_SECONDS", default=30)
_batch_wait = COACH_LLM_BATCH_DEADLINE_SECONDS if COACH_LLM_BATCH == "openai" else 0
# A run reserves each plan before asking the LLM; another run's reservation is honoured this long
# (then its run is taken for dead): longer than one plan's LLM calls with their retries.
COACH_CLAIM_SECONDS = env.int("COACH_CLAIM_SECONDS", default=600 + _batch_wait)
# Plans are generated on Monday at this local hour in each store's time zone.
COACH_SCHEDULE_HOUR = env.int("COACH_SCHEDULE_HOUR", default=6)
# Managers per Celery task when the week fans out: a few times COACH_LLM_CONCURRENCY, so the
# per-task cost of loading the week (about 0.3 s for a 2,000-store chain) is spread thin, and
# small enough that the task's time limit, hence the redelivery of a dead worker's task, is short.
COACH_BATCH_CHUNK = env.int("COACH_BATCH_CHUNK", default=64)
# A store whose Monday run was missed (beat or broker down) is caught up by a later hourly tick
# for this long after its COACH_SCHEDULE_HOUR: its pairs without a plan or a live claim.
COACH_CATCHUP_HOURS = env.int("COACH_CATCHUP_HOURS", default=48)
# Worst case for one plan: the question and its repair time out on every attempt, 60 s backoffs.
COACH_PLAN_WORST_SECONDS = env.int(
    "COACH_PLAN_WORST_SECONDS",
    default=int(2 * (COACH_LLM_ATTEMPTS * OPENAI_TIMEOUT + 60 * (COACH_LLM_ATTEMPTS - 1))),
)
# A chunk runs in waves of COACH_LLM_CONCURRENCY plans: its worst case, plus a minute to load and
# send digests (and the Batch API wait), is the soft limit; the hard limit a minute later.
_waves = -(-COACH_BATCH_CHUNK // max(1, COACH_LLM_CONCURRENCY))
CELERY_TASK_SOFT_TIME_LIMIT = env.int(
    "CELERY_TASK_SOFT_TIME_LIMIT", default=_waves * COACH_PLAN_WORST_SECONDS + 60 + _batch_wait
)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 60)
# Redis redelivers a task whose worker died (acks_late) after this long: a bit above the hard
# limit, so a live task is never delivered twice, and a dead worker's chunks are redone promptly.
# Workers look for such tasks every tenth of it (1 to 60 s; kombu's own default is 100 s).
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1,
}
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Mid-week nudges (coaching/nudges): on this weekday (0 = Monday, 3 = Thursday) in each store's
# time zone, from this local hour on (a late hourly tick still catches up the same local day).
NUDGE_WEEKDAY = env.int("NUDGE_WEEKDAY", default=3)
NUDGE_HOUR = env.int("NUDGE_HOUR", default=10)
# "20-8": no nudge, scheduled or a lead's, from 20:00 to 08:00 store-local time; "" for none.
NUDGE_QUIET_HOURS = env.str("NUDGE_QUIET_HOURS", default="20-8")
# A lead's nudges to one manager at one store per rolling 24 hours: a reminder, never a barrage.
NUDGE_LEAD_PER_DAY = env.int("NUDGE_LEAD_PER_DAY", default=1)

CELERY_TASK_ROUTES = {"coaching.tasks.generate_plans": {"queue": "llm"}}
CELERY_BEAT_SCHEDULE = {
    # Hourly; the task picks the stores whose local time is Monday COACH_SCHEDULE_HOUR, and catches
    # up the plans a missed tick left undone (COACH_CATCHUP_HOURS).
    "weekly-coaching": {
        "task": "coaching.tasks.schedule_weekly_coaching",
        "schedule": crontab(minute=0),
    },
    "lead-summaries": {
        "task": "coaching.tasks.send_lead_summaries",
        "schedule": crontab(
            minute=0, hour=env.int("LEAD_SUMMARY_HOUR_UTC", default=8), day_of_week="mon"
        ),
    },
    # A safety net: submits schedule their own roll; this catches one a lost message dropped.
    "pulse-roll": {"task": "scoring.tasks.roll_pulse", "schedule": crontab(minute="*/5")},
    "analyses": {"task": "coaching.tasks.refresh_analyses", "schedule": crontab(minute=30)},
    # Hourly; the task picks the stores whose local time is NUDGE_WEEKDAY from NUDGE_HOUR on.
    "nudges": {"task": "coaching.tasks.send_nudges", "schedule": crontab(minute=15)},
}
