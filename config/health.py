"""GET /health/: whether each service this deployment depends on answers, for load balancers and
monitors. 200 while the database answers (every page works), 503 when it does not. The cache, the
broker and the LLM are reported, not required: without a broker tasks cannot be queued, without
the LLM the playbook coach writes the coaching. Details name an error's kind, never a URL or a
credential. The LLM probe lists the server's models (no tokens spent) at most once a minute."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from coaching import llm

LLM_PROBE_SECONDS = 60


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"{connection.vendor} answering"


def _cache() -> str:
    cache.set("health:probe", "1", 10)
    if cache.get("health:probe") != "1":
        raise RuntimeError("a value written was not read back")
    return "answering"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used: tasks run in-process"
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
    return "answering"


def _llm() -> str:
    answer = cache.get("health:llm")
    if answer is None:
        answer = llm.probe(timeout=3.0)
        cache.set("health:llm", answer, LLM_PROBE_SECONDS)
    return answer


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "llm": _llm}


@never_cache
def health(request):
    results = {}
    for name, check in CHECKS.items():
        began = time.perf_counter()
        try:
            results[name] = {"ok": True, "detail": check()}
        except Exception as error:
            results[name] = {"ok": False, "detail": f"not answering ({type(error).__name__})"}
        results[name]["ms"] = round((time.perf_counter() - began) * 1000, 1)
    healthy = all(r["ok"] for r in results.values())
    status = "ok" if healthy else "down" if not results["database"]["ok"] else "degraded"
    return JsonResponse(
        {"status": status, "checks": results}, status=503 if status == "down" else 200
    )
