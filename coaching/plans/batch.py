"""The weekly batch: plans for many (manager, store) pairs, the LLM calls run concurrently.

Plan generation is split so the slow part holds no database lock: the inputs of a whole batch are
loaded in bulk (`week_context`), each plan's LLM call runs in a thread pool
(COACH_LLM_CONCURRENCY in flight), and each finished plan is written in its own short transaction
(`services.save_plan`). Plans are unique per (manager, store, week) and keyed by a fingerprint of
their inputs, so re-running a week, or a redelivered task, reuses what exists instead of writing
twice.
"""

import datetime as dt
import hashlib
import logging
import queue
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

from scoring.languages import language_of
from scoring.models import Store
from scoring.pulse.themes import themes_of
from scoring.weeks import week_label

from .. import llm
from ..llm import get_coach
from ..llm.base import FocusItem, GoalText, ModuleRef, PlanRequest
from ..llm.openai_batch import BatchUnavailable, submit_batch
from ..models import WeeklyPlan
from ..modules.recommend import module_of_category, rank_modules
from . import focus as focus_rules
from .access import coached_pairs
from .digests import send_digests
from .services import Coached, Job, PlanOutcome, claim_plans, coach_job, save_plans
from .week_context import WeekContext, load_week_context

log = logging.getLogger(__name__)
MODULES_PER_CATEGORY = 3
SAVE_AFTER = 1.0  # seconds an answer may wait for the rest of its wave before it is saved


@dataclass
class BatchResult:
    # created, updated, reused, fallback, failed, claimed (another run is coaching it), no_data
    # (a store with no scores yet: no plan)
    counts: Counter = field(default_factory=Counter)
    emailed: int = 0
    # (store code, manager's username, outcome, reason) of every plan that fell back, failed or was left
    # to another run: what an operator needs to see, not only how many.
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)
    # LLM tokens of the run's calls: calls, prompt, cached (of prompt), completion.
    tokens: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['created']} created, {c['updated']} updated, {c['reused']} reused, "
            f"{c['fallback']} fell back to the playbook, {c['failed']} failed."
            + (f" {c['claimed']} left to another run." if c["claimed"] else "")
            + (f" {c['no_data']} skipped: no scores yet." if c["no_data"] else "")
            + f" {self.emailed} digests emailed."
        )

    def problem_lines(self) -> list[str]:
        """One line per plan that fell back, failed or was left to another run, with why."""
        said = {"fallback": "fell back to the playbook", "failed": "failed", "claimed": "skipped"}
        return [
            f"{store} ({manager}): {said.get(outcome, outcome)}: {reason}"
            for store, manager, outcome, reason in self.problems
        ]


def generate_week(
    week: dt.date, *, store_code: str | None = None, force: bool = False
) -> BatchResult:
    return generate_plans(coached_pairs(store_code=store_code), week, force=force)


def generate_plans(
    pairs: Sequence[tuple[int, int]],
    week: dt.date,
    *,
    force: bool = False,
    coach=None,
    claim_token: str | None = None,
) -> BatchResult:
    """Plans for these (manager, store) pairs; LLM calls run concurrently. `claim_token` names
    this run in the plans it reserves (a Celery task passes its id, so a redelivery can take its
    own claims back); by default each call is a run of its own."""
    result = BatchResult()
    if not pairs:
        return result
    coach = coach or get_coach()
    run = Run(week, force, coach, claim_token or uuid.uuid4().hex, result)
    run.load_people(pairs)
    slices = slice_pairs(pairs, first=2 * max(1, settings.COACH_LLM_CONCURRENCY))
    if not coach.offline and settings.COACH_LLM_BATCH == "openai":
        run.through_batch_api([job for part in slices for job in run.prepare(part)])
    else:
        run.coach_all(run.prepare(part) for part in slices)
    log_tokens(result)
    result.emailed = send_digests(week, pairs)
    return result


@dataclass
class Run:
    """One call of `generate_plans`: the jobs are prepared a slice at a time, each slice's LLM
    calls start while the next is prepared, and answers are stored in groups as they come."""

    week: dt.date
    force: bool
    coach: object
    token: str
    result: BatchResult
    names: dict[int, str] = field(default_factory=dict)
    usernames: dict[int, str] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    # The manager's chosen language, else the store's: what the plan is written in.
    chosen: dict[int, str] = field(default_factory=dict)
    store_languages: dict[int, str] = field(default_factory=dict)

    def load_people(self, pairs: Sequence[tuple[int, int]]) -> None:
        users = get_user_model().objects.filter(id__in={m for m, _ in pairs})
        rows = users.values_list("id", "first_name", "username", "profile__language")
        for pk, first_name, username, language in rows:
            self.names[pk], self.usernames[pk] = first_name, username
            self.chosen[pk] = language or ""
        stores = Store.objects.filter(id__in={s for _, s in pairs})
        for pk, code, language in stores.values_list("id", "code", "language"):
            self.codes[pk], self.store_languages[pk] = code, language

    def language(self, manager_id: int, store_id: int) -> str:
        return language_of(self.chosen.get(manager_id, ""), self.store_languages.get(store_id, ""))

    def prepare(self, pairs: Sequence[tuple[int, int]]) -> list[Job]:
        """The jobs of these pairs, claimed: pairs without scores, reused or held by another run
        are counted and left out."""
        context = load_week_context(self.week, pairs)
        jobs = []
        for manager_id, store_id in pairs:
            if context.data_week is None or store_id not in context.trends:
                self.result.counts["no_data"] += 1
                log.warning("no scores before %s for store %s: no plan", self.week, store_id)
                continue
            name = self.names.get(manager_id) or "there"
            language = self.language(manager_id, store_id)
            with translation.override(language):  # the focus reasons, in the manager's words
                request, chosen = build_request(
                    context, manager_id, store_id, name, self.codes[store_id], language
                )
            fingerprint = fingerprint_of(request, self.coach)
            plan = context.existing.get((manager_id, store_id))
            if (
                plan is not None
                and not self.force
                and plan.fingerprint == fingerprint
                and plan.status in (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
            ):
                self.result.counts["reused"] += 1
                continue
            jobs.append(Job(manager_id, store_id, request, chosen, fingerprint, context))
        fingerprints = {job.pair: job.fingerprint for job in jobs}
        skipped = claim_plans(self.week, fingerprints, token=self.token, force=self.force)
        for job in jobs:
            if job.pair in skipped:
                self.record(job.pair, skipped[job.pair])
        return [job for job in jobs if job.pair not in skipped]

    def coach_all(self, parts: Iterable[list[Job]], firsts: Mapping | None = None) -> None:
        """Coach the jobs of each part (a slice, prepared when it is reached): its LLM calls are
        queued on the pool while the next part is prepared, and answers are saved in one
        transaction a wave (COACH_LLM_CONCURRENCY) at a time, or once the oldest unsaved one has
        waited SAVE_AFTER seconds (so a killed worker loses little). `firsts` maps a pair to a stand-in for its coach's first
        answer (the Batch API's)."""
        retries, firsts = llm.retries(), firsts or {}
        concurrency = max(1, settings.COACH_LLM_CONCURRENCY)

        def coached(job: Job) -> Coached:
            return own_category_modules(coach_job(job, self.coach, retries, firsts.get(job.pair)))

        if self.coach.offline:  # no network to wait on: threads would only add overhead
            for jobs in parts:
                self.save([coached(job) for job in jobs])
            return
        if concurrency == 1:  # one call after the other, each plan stored as it is answered
            for jobs in parts:
                for job in jobs:
                    self.save([coached(job)])
            return
        answers: queue.SimpleQueue = queue.SimpleQueue()
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="coach")
        waiting, done, since = 0, [], 0.0
        try:
            for jobs in parts:
                waiting += len(jobs)
                for job in jobs:  # no database in the pool's threads
                    pool.submit(lambda job: answers.put(coached(job)), job)
                done += drain(answers, timeout=0)
                if len(done) >= concurrency:
                    waiting, done = waiting - self.save(done), []
            while waiting:
                if not done:
                    done, since = drain(answers), time.monotonic()
                done += drain(answers, timeout=max(0.0, since + SAVE_AFTER - time.monotonic()))
                late = time.monotonic() - since >= SAVE_AFTER
                if len(done) >= concurrency or len(done) == waiting or late:
                    waiting, done = waiting - self.save(done), []
        finally:  # an error stops the run: what is queued is not asked for
            pool.shutdown(wait=True, cancel_futures=True)

    def through_batch_api(self, jobs: list[Job]) -> None:
        """COACH_LLM_BATCH=openai: every first question in one Batch API job, awaited up to
        COACH_LLM_BATCH_DEADLINE_SECONDS; each answer is then checked (and repaired or retried on
        the live endpoint) as a direct one is, and a plan not answered by then gets the
        playbook's, with the reason. A provider that takes no batch: the live endpoint."""
        if not jobs:
            return
        try:
            outcome = submit_batch(
                self.coach,
                [job.request for job in jobs],
                deadline=settings.COACH_LLM_BATCH_DEADLINE_SECONDS,
                poll=settings.COACH_LLM_BATCH_POLL_SECONDS,
            )
        except BatchUnavailable as exc:
            log.warning("Batch API unavailable, asking the live endpoint: %s", exc)
            self.coach_all([jobs])
            return
        firsts = {job.pair: outcome.stand_in(number) for number, job in enumerate(jobs)}
        self.coach_all([jobs], firsts)

    def save(self, coached: list[Coached]) -> int:
        if not coached:
            return 0
        outcomes = save_plans(self.week, coached, self.force)
        for done, outcome in zip(coached, outcomes, strict=True):
            self.record(done.job.pair, outcome)
            for call in done.calls:
                if call.provider != "playbook":
                    self.result.tokens.update(
                        calls=1,
                        prompt=call.tokens_in,
                        cached=call.cached_tokens,
                        completion=call.tokens_out,
                    )
        return len(coached)

    def record(self, pair: tuple[int, int], outcome: PlanOutcome) -> None:
        self.result.counts[outcome.outcome] += 1
        if outcome.reason:
            manager_id, store_id = pair
            problem = (self.codes[store_id], self.usernames[manager_id], outcome.outcome)
            self.result.problems.append((*problem, outcome.reason))


def slice_pairs(pairs: Sequence[tuple[int, int]], *, first: int) -> list[Sequence]:
    """The pairs in slices whose context is loaded and requests built at a time: a first one of
    two waves, so the first LLM calls go out at once, then each twice the one before (each load
    reads the chain's week once, so few slices; preparing outpaces the calls it feeds)."""
    slices, start, size = [], 0, first
    while start < len(pairs):
        slices.append(pairs[start : start + size])
        start, size = start + size, size * 2
    return slices


def own_category_modules(done: Coached) -> Coached:
    """A tip's module of another focus category (an LLM may pick one) becomes its own's best."""
    if done.answer is None:
        return done
    offered, out = [(m.slug, m.category) for m in done.job.request.modules], done.answer.out
    tips = [t.model_copy(update={"module_slug": module_of_category(t, offered)}) for t in out.tips]
    return replace(done, answer=replace(done.answer, out=out.model_copy(update={"tips": tips})))


def drain(answers: queue.SimpleQueue, *, timeout: float | None = None) -> list[Coached]:
    """What the pool has answered: waits for the first up to `timeout` seconds (None: as long as
    it takes, 0: not at all), then takes whatever else is there."""
    done = []
    try:
        done.append(answers.get(timeout=timeout) if timeout != 0 else answers.get_nowait())
        while True:
            done.append(answers.get_nowait())
    except queue.Empty:
        return done


def log_tokens(result: BatchResult) -> None:
    """The batch's LLM tokens in one log line (each call's are in the LLMCall log)."""
    if result.tokens["calls"]:
        t = result.tokens
        log.info(
            "LLM tokens: %s calls, %s prompt (%s cached), %s completion",
            t["calls"], t["prompt"], t["cached"], t["completion"],
        )  # fmt: skip


def build_request(
    context: WeekContext,
    manager_id: int,
    store_id: int,
    first_name: str,
    store_code: str,
    language: str = "en",
) -> tuple[PlanRequest, list[focus_rules.Focus]]:
    trends = context.trends[store_id]
    # The soonest goals, as many as a manager may have (goals made before the cap existed too):
    # the prompt stays a few KB whatever is in the table.
    goals = context.goals.get((manager_id, store_id), [])[: settings.GOALS_PER_MANAGER]
    targets = {
        g.category.code: focus_rules.GoalTarget(
            g.category.code, float(g.target_score), g.due_date.strftime("%d %b %Y"), g.due_date
        )
        for g in goals
    }
    chosen = focus_rules.rank_categories(
        trends,
        goals=targets,
        recently_coached=context.recent_focus.get((manager_id, store_id), set()),
        region_drops=context.largest_drops_elsewhere(store_id),
        impact=context.impact_weights,
        weeks_of_data=context.weeks_of_data.get(store_id),
    )
    goal_text = {
        code: " ".join(g.intent for g in goals if g.category.code == code) for code in targets
    }
    done = context.completed.get(manager_id, set())
    taken = {c.group for c in context.candidates if c.slug in done}  # in any language
    picks = {f.trend.category.code: _modules(context, f, goal_text, done, language) for f in chosen}
    request = PlanRequest(
        manager_first_name=first_name,
        store_code=store_code,
        week=week_label(context.week),
        data_week=week_label(context.data_week),
        focus=tuple(
            FocusItem(
                category=f.trend.category.code,
                name=f.trend.category.label,
                score=f.trend.score,
                change=f.trend.change,
                region_median=f.trend.region_median,
                chain_top_quartile=f.trend.chain_top_quartile,
                slope=f.trend.slope,
                situation=f.situation,
                reason=f.reason,
                goal_target=f.goal.target if f.goal else None,
                goal_due=f.goal.due if f.goal else None,
            )
            for f in chosen
        ),
        goals=tuple(
            GoalText(g.category.code, float(g.target_score), g.due_date.isoformat(), g.intent)
            for g in goals
        ),
        modules=tuple(
            ModuleRef(m.slug, m.title, m.summary, m.category, m.group in taken)
            for code in sorted(picks)
            for m in picks[code]
        ),
        recent_practices=tuple(sorted(context.recent_practices.get((manager_id, store_id), ()))),
        customer_comments=tuple(context.comments.get(store_id, ())),
        comment_themes=tuple(
            f"{theme} ({count})" for theme, count in themes_of(context.comments.get(store_id, ()))
        ),
        language=language,
    )
    return request, chosen


def _modules(
    context: WeekContext, focus, goal_text: dict[str, str], done: set[str], language: str
) -> list:
    """The modules to offer for a focus category: ranked once per (category, goal words,
    completed modules, language) and batch, as most managers share them."""
    category = focus.trend.category
    key = (category.code, goal_text.get(category.code, ""), frozenset(done), language)
    if key not in context.module_picks:
        context.module_picks[key] = rank_modules(
            context.candidates,
            category=category.code,
            goal_text=key[1],
            category_words=f"{category.name} {category.description}",
            completed=done,
            limit=MODULES_PER_CATEGORY,
            language=language,
        )
    return context.module_picks[key]


def fingerprint_of(request: PlanRequest, coach) -> str:
    source = f"{coach.name}|{coach.model}|{coach.prompt_version}|{request.fingerprint_source()}"
    return hashlib.sha256(source.encode()).hexdigest()
