"""The score import page: upload a CSV, see its row errors or what it changed."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .access import stores_visible_to
from .imports import import_scores


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        # Translators: the column names stay as they are.
        help_text=gettext_lazy("CSV: store_code,week,category,score[,responses,source]"),
    )
    dry_run = forms.BooleanField(required=False, label=gettext_lazy("Check only, write nothing"))

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB
        if file.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                # Translators: keep the command as it is.
                _("files over %(limit)s MB go through `python manage.py import_scores FILE`")
                % {"limit": limit}
            )
        return file


@login_required
@permission_required("scoring.import_scores", raise_exception=True)
def import_page(request):
    """All or nothing, as everywhere: any bad row and nothing is written."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = import_scores(
            form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            stores=stores_visible_to(request.user),
            by=request.user,
            via="web import",
        )
    failed = bool(form.errors) or (result is not None and not result.ok)
    # The importer keeps only the first IMPORT_MAX_ERRORS bad rows; the rest are counted.
    errors = result.errors if result else []
    more = result.error_count - len(errors) if result else 0
    more_errors = (
        ngettext(
            # Translators: English keeps one form for every count; give each of your language's.
            "... and %(count)s more rows with errors",
            "... and %(count)s more rows with errors",
            more,
        )
        % {"count": number_format(more, force_grouping=True)}
        if more
        else ""
    )
    return render(
        request,
        "scoring/import.html",
        {"form": form, "result": result, "errors": errors, "more_errors": more_errors},
        status=400 if failed else 200,
    )
