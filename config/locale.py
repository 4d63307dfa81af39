"""The page's language: the user's choice or their store's, over the browser's (which
`LocaleMiddleware`, just before, has activated)."""

from django.utils import translation

from scoring.languages import chosen_language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request.user) if hasattr(request, "user") else None
        if not language:
            return self.get_response(request)
        with translation.override(language):  # and back after: nothing leaks to the thread
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
