"""Forms of the seat requests: asking for a seat, and the answer of a decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from renewals.inventory.models import Module, Subscription
from renewals.seats.services import ANSWER_MAX, REASON_MAX


class SeatAskForm(forms.Form):
    """A seat of one of the subscriptions the person may ask for (any other id fails
    validation), some of its modules, and what it is for."""

    subscription = forms.TypedChoiceField(label=_("Subscription"), coerce=int, choices=())
    modules = forms.TypedMultipleChoiceField(
        label=_("Modules wanted"),
        coerce=int,
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only the modules of the chosen subscription count."),
    )
    reason = forms.CharField(
        label=_("What it is for"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. “I join the design reviews of project X from January”."),
    )

    def __init__(self, *args: Any, subscriptions: QuerySet[Subscription], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscriptions = {s.pk: s for s in subscriptions}
        self.fields["subscription"].choices = [  # type: ignore[attr-defined]
            ("", "---------"),
            *(
                (s.pk, f"{s.display_name} · {s.department.name}")
                for s in self.subscriptions.values()
            ),
        ]
        modules = Module.objects.filter(
            subscription_id__in=list(self.subscriptions), archived_at__isnull=True
        ).order_by("subscription_id", "name")
        self.module_rows = {m.pk: m for m in modules}
        many = len(self.subscriptions) > 1
        self.fields["modules"].choices = [  # type: ignore[attr-defined]
            (
                m.pk,
                f"{m.name} ({self.subscriptions[m.subscription_id].product})" if many else m.name,
            )
            for m in self.module_rows.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        subscription = self.subscriptions.get(data.get("subscription") or 0)
        data["subscription_obj"] = subscription
        wanted = [self.module_rows[pk] for pk in data.get("modules") or []]
        if subscription is not None and any(m.subscription_id != subscription.pk for m in wanted):
            self.add_error("modules", _("Choose modules of this subscription."))
        data["module_objs"] = wanted
        return data


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"),
        max_length=ANSWER_MAX,
        required=False,
        widget=forms.TextInput(),
    )
