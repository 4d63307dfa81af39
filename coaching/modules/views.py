"""Training modules as a reader: the published list (with their results and what is recommended
for them), and a module with its quiz, marked answer by answer once taken."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring.access import require_role
from scoring.models import Role

from . import services
from .access import modules_readable_by
from .markdown import render_markdown
from .quiz import mark, pass_mark, passed
from .selectors import completion_of, module_list_for, readable_version

readers = require_role(Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.TRAINER, Role.ADMIN)


@readers
def module_list(request):
    items = module_list_for(request.user, request.LANGUAGE_CODE[:2], timezone.localdate())
    return render(
        request,
        "coaching/module_list.html",
        {
            "items": items,
            "recommended": [item for item in items if item.recommended],
            "pass_mark": pass_mark(),
        },
    )


@readers
def module_detail(request, slug: str):
    module = get_object_or_404(
        modules_readable_by(request.user).select_related("category"), slug=slug
    )
    version = readable_version(request.user, module)
    if version is None:
        raise Http404("no such module")
    result, chosen, error = None, [], ""
    if request.method == "POST":
        chosen = [request.POST.get(f"q{n}", "") for n in range(len(version.quiz))]
        try:
            answers = [int(a) for a in chosen]
        except ValueError:
            answers = None
            error = _("Answer every question.")
        if answers is not None:
            try:
                result = services.complete_module(request.user, module, answers)
            except (ValidationError, PermissionDenied) as exc:
                error = " ".join(getattr(exc, "messages", [str(exc)]))
    can_complete = request.user.has_perm("coaching.add_modulecompletion")
    # Taken before: their result, and the quiz again for a retake.
    earlier = completion_of(request.user, version) if can_complete and not result else None
    return render(
        request,
        "coaching/module_detail.html",
        {
            "module": module,
            "version": version,
            "body": render_markdown(version.body),
            "questions": [
                {"n": n, "q": q, "chosen": chosen[n] if n < len(chosen) else ""}
                for n, q in enumerate(version.quiz)
            ],
            "result": result,
            "marked": mark(version.quiz, result.answers) if result else [],
            "passed": result is not None and passed(result.score),
            "pass_mark": pass_mark(),
            "earlier": earlier,
            "earlier_best": max(earlier.best_score, earlier.score) if earlier else None,
            "error": error,
            "can_complete": can_complete,
        },
        status=400 if error else 200,
    )
