"""Forms and the list filter of the savings suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filtersets import NOT_AVAILABLE, ScopedIdFilter, set_choices, set_queryset
from core.widgets import DateInput
from org.scoping import visible_departments
from renewals.inventory.models import Subscription
from renewals.requests.forms import MoneyField
from renewals.suggestions.models import Suggestion
from renewals.suggestions.selectors import suggestable_subscriptions, visible_suggestions
from renewals.suggestions.services import DETAILS_MAX


class SuggestionForm(forms.Form):
    """A suggestion on one of the subscriptions the user may suggest on (any other id fails
    validation)."""

    subscription = forms.TypedChoiceField(label=_("Subscription"), coerce=int, choices=())
    title = forms.CharField(
        label=_("Suggestion"),
        max_length=200,
        help_text=_("e.g. “Drop 5 unused seats at the next renewal”."),
    )
    details = forms.CharField(
        label=_("Details"),
        max_length=DETAILS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    estimated_saving = MoneyField(
        label=_("Estimated yearly saving (CNY)"),
        required=False,
        allow_zero=False,
        help_text=_("Digits, at most two decimals; leave empty if unknown."),
    )

    def __init__(self, *args: Any, subscriptions: QuerySet[Subscription], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = subscriptions.select_related("vendor", "department").order_by(
            "department__name", "vendor__name", "product"
        )
        self.fields["subscription"].choices = [  # type: ignore[attr-defined]
            ("", "---------"),
            *((s.pk, f"{s.display_name} · {s.department.name}") for s in rows),
        ]

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Say in a few words what could be saved."))
        return title


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not " ".join((data.get("note") or "").split()):
            self.add_error("note", _("Say why the suggestion is declined."))
        return data


class RealiseForm(forms.Form):
    realised_saving = MoneyField(label=_("Realised yearly saving (CNY)"), allow_zero=False)
    realised_on = forms.DateField(label=_("Realised on"), widget=DateInput())

    def clean_realised_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["realised_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        if day.year < 2000:
            raise forms.ValidationError(_("Enter a date after 2000."))
        return day


class SuggestionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Suggestion.Status.choices, empty_label=_("Any status")
    )
    # Plain choices read once (a model choice field costs a COUNT and a cursor per page).
    department = django_filters.ChoiceFilter(
        label=_("Department"),
        field_name="subscription__department",
        choices=[],
        empty_label=_("All departments"),
        error_messages=NOT_AVAILABLE,
    )
    # The id from the subscription page's link, among the subscriptions the user may see.
    subscription = ScopedIdFilter(
        label=_("Subscription"), field_name="subscription", model=Subscription
    )

    class Meta:
        model = Suggestion
        fields = ["status", "department", "subscription"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the user's departments can be chosen: any other value fails validation.
        set_choices(
            self, "department", visible_departments(user).order_by("name").values_list("pk", "name")
        )
        # The subscriptions of the suggestions the user sees, and those they may suggest on.
        shown = visible_suggestions(user=user).values("subscription_id")
        suggestable = suggestable_subscriptions(user).values("pk")
        set_queryset(
            self,
            "subscription",
            Subscription.objects.filter(Q(pk__in=shown) | Q(pk__in=suggestable)),
        )
