"""A password change revokes the user's API token: whoever held the old password may have taken it.
A change of the scores queues the overviews' warm-up (`snapshots`) once it is committed. A
store's or a profile's new language is read at once, not after the cached one expires."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from .languages import chosen_language, forget_language
from .models import Profile, ScoreChange, Store
from .snapshots import queue_warm_up


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="scoring.revoke_token")
def revoke_token_on_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """Compare the stored hash with the one being saved; a new one deletes the token (a fresh one
    comes from the token endpoint with the new password)."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. last_login on every sign-in: no extra query
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True)
    old = stored.first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()


@receiver(post_save, sender=ScoreChange, dispatch_uid="scoring.warm_overviews")
def warm_overviews_after_a_change(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw:
        transaction.on_commit(queue_warm_up)


@receiver(post_save, sender=Profile, dispatch_uid="scoring.profile_language")
def forget_profile_language(sender, instance, raw=False, **kwargs):
    if not raw:
        forget_language([instance.user_id])


@receiver(post_save, sender=Store, dispatch_uid="scoring.store_language")
def forget_store_language(sender, instance, created=False, raw=False, **kwargs):
    if not (created or raw):
        forget_language(instance.managers.values_list("user_id", flat=True))


@receiver(user_logged_in, dispatch_uid="scoring.warm_language")
def warm_language_on_login(sender, request, user, **kwargs):
    """A manager's store language is looked up once at sign-in, not on their first page."""
    chosen_language(user)
