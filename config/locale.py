"""The page's language: the user's choice or their store's, over the browser's (which
`LocaleMiddleware`, just before, has activated)."""

from django.utils import translation

from scoring.languages import chosen_language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request.user) if hasattr(request, "user") else None
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
