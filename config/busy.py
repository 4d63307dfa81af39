"""A database too busy to answer in time is a 503 with Retry-After, never a 500.

SQLite (the embedded default) allows one writer at a time; a write that waits past the busy timeout
(20 s) fails with "database is locked". PostgreSQL can time out on a lock or a statement too. The
request did nothing (its transaction rolled back), so the honest answer is "busy, try again".
"""

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 10
BUSY_MESSAGES = (
    "database is locked",
    "database table is locked",
    "lock timeout",
    "statement timeout",
)


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in BUSY_MESSAGES)


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not is_busy(exc):
            return None
        if request.path.startswith("/api/"):
            detail = "The database is busy (another import or batch is writing). Try again shortly."
            error = {"status": 503, "code": "database_busy", "detail": detail}
            response = JsonResponse({"error": error}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", request=request), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
