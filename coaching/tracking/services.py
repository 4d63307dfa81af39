"""The regional leads' weekly summary email: how the region's stores moved, who is at risk, how
managers engaged with their coaching, and whether coaching moved the numbers."""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.drivers import chain_drivers_missing, refresh_chain_drivers
from scoring.languages import language_for
from scoring.models import Profile, Role, Store
from scoring.numbers import decimal, signed
from scoring.selectors import improving_and_declining, latest_scored_week, weekly_ror
from scoring.weeks import week_of, weeks_back

from ..models import LeadSummary
from .selectors import (
    coaching_impact,
    engagement_by_week,
    first_coaching_week,
    impact_between_is_fresh,
    refresh_impact,
    stores_at_risk,
)

log = logging.getLogger(__name__)
AT_RISK = 5  # stores listed as most at risk: as many as the region page lists


def send_lead_summaries(week: dt.date) -> int:
    """One email per regional lead for `week` (the Monday the summary covers up to); a lead
    already sent this week's is skipped, and one failed send does not stop the others."""
    leads = (
        Profile.objects.filter(role=Role.REGIONAL_LEAD, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .prefetch_related("regions")
    )
    sent = 0
    for profile in leads:
        stores = list(Store.objects.filter(region__in=profile.regions.all()).order_by("code"))
        if not stores:
            continue
        try:
            with transaction.atomic(), translation.override(language_for(profile.user)):
                LeadSummary.objects.create(lead=profile.user, week=week)
                send_mail(
                    _("Your region, %(week)s") % {"week": week_of(week)},
                    summary_text(profile.user.first_name, stores, week),
                    None,
                    [profile.user.email],
                )
        except IntegrityError:
            continue  # already sent
        except Exception:
            log.exception("lead summary for %s not sent", profile.user)
            continue
        sent += 1
    return sent


def summary_text(first_name: str, stores: list[Store], week: dt.date) -> str:
    ids = [s.id for s in stores]
    last = weeks_back(week, 1)
    ror = {}
    for point in weekly_ror(start=weeks_back(last, 1), end=last, store_ids=ids):
        ror.setdefault(point.store_id, {})[point.week] = point.ror
    moving = improving_and_declining(store_ids=ids, end=last)
    engagement = engagement_by_week(ids, start=last, end=last)
    impact = coaching_impact(ids, start=weeks_back(week, 26), end=week).overall

    lines = [
        _("Hi %(name)s,") % {"name": first_name} if first_name else _("Hi there,"),
        "",
        _("Your region, %(week)s:") % {"week": week_of(last)},
    ]
    latest = [values[last] for values in ror.values() if last in values]
    if latest:
        lines.append(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "- Average ROR %(ror)s across %(count)s stores.",
                "- Average ROR %(ror)s across %(count)s stores.",
                len(latest),
            )
            % {"ror": decimal(sum(latest) / len(latest)), "count": len(latest)}
        )
    lines.append(
        # Translators: counts of stores whose ROR rose, fell or held over the last four weeks.
        _("- Over four weeks: %(improving)s improving, %(declining)s declining, %(steady)s steady.")
        % {
            "improving": len(moving["improving"]),
            "declining": len(moving["declining"]),
            "steady": len(moving["steady"]),
        }
    )
    lines += _at_risk_lines(stores)
    if engagement:
        read = sum(r["plan_read"] for r in engagement)
        done = sum(r["tips_done"] for r in engagement)
        tips = sum(r["tips"] for r in engagement)
        lines.append(
            ngettext(
                # Translators: the form follows the number of tips; English keeps one form for every
                # count, give each of your language's.
                "- Coaching: %(read)s of %(plans)s plans read, %(done)s of %(tips)s tips done.",
                "- Coaching: %(read)s of %(plans)s plans read, %(done)s of %(tips)s tips done.",
                tips,
            )
            % {"read": read, "plans": len(engagement), "done": done, "tips": tips}
        )
    lines.append(_impact_line(impact))
    url = settings.SITE_URL + reverse("regions")
    lines += ["", _("The region's dashboard: %(url)s") % {"url": url}]
    return "\n".join(lines)


def _at_risk_lines(stores: list[Store]) -> list[str]:
    """The region page's "Most at risk" (`risk.assess`): the same stores, the same reasons."""
    names = {s.id: s for s in stores}
    risks = stores_at_risk([s.id for s in stores])[:AT_RISK]
    if not risks:
        return [_("- No store is slipping.")]
    # Translators: followed by one line per store: its code, name and why it is at risk.
    lines = [_("- Most at risk:")]
    for found in risks:
        store = names[found.store_id]
        lines.append(f"  {store.code} {store.name}: {found.text}")
    return lines


def _impact_line(impact) -> str:
    if impact.enough:
        return ngettext(
            # Translators: the effect and interval are signed points ("+1.2"); English keeps one
            # form for every count of events.
            "- Coaching impact so far: %(effect)s points on coached categories "
            "(90%% interval %(low)s to %(high)s, %(events)s events).",
            "- Coaching impact so far: %(effect)s points on coached categories "
            "(90%% interval %(low)s to %(high)s, %(events)s events).",
            impact.events,
        ) % {
            "effect": signed(impact.effect),
            "low": signed(impact.low),
            "high": signed(impact.high),
            "events": impact.events,
        }
    # Translators: why there is no estimate yet, a phrase of its own.
    return _("- Coaching impact: %(note)s.") % {"note": impact.note}


def refresh_analyses() -> int:
    """Each region's impact report and the chain's sales drivers for the newest data week, where
    they are not computed yet: run hourly by beat, so after an import or the weekly batch the
    dashboards find them ready. Returns how many were computed."""
    computed = 0
    # order_by(): the model's ordering (code) would make DISTINCT run over stores, not regions.
    for region_id in Store.objects.order_by().values_list("region_id", flat=True).distinct():
        ids = sorted(Store.objects.filter(region_id=region_id).values_list("id", flat=True))
        week, began = latest_scored_week(ids), first_coaching_week(ids)
        if week is None or began is None or impact_between_is_fresh(ids, start=began, end=week):
            continue
        refresh_impact(ids, start=began, end=week)
        computed += 1
    week = latest_scored_week(None)
    if week is not None and chain_drivers_missing(week):
        refresh_chain_drivers(week)
        computed += 1
    return computed
