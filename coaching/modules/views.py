"""Training modules as a reader: the published list, and a module with its quiz."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from scoring.access import require_role
from scoring.models import Role

from ..models import TrainingModule
from . import services
from .access import modules_readable_by
from .markdown import render_markdown
from .selectors import in_reader_language, readable_version

readers = require_role(Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.TRAINER, Role.ADMIN)


@readers
def module_list(request):
    modules = (
        modules_readable_by(request.user)
        .filter(status=TrainingModule.Status.PUBLISHED)
        .select_related("category")
    )
    shown = in_reader_language(modules, request.LANGUAGE_CODE[:2])
    return render(request, "coaching/module_list.html", {"modules": shown})


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
            "error": error,
            "can_complete": request.user.has_perm("coaching.add_modulecompletion"),
        },
        status=400 if error else 200,
    )
