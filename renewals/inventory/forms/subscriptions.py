"""The subscription form: every field for IT admins, the department's own fields (owner,
category, alert days and recipients, tags, notes) for its heads and software admins. It only
reads the values; the rules run in the service (renewals.inventory.rules), the same for the
import and the API. It carries the version it was shown and a signed snapshot of what it
showed, so a save over someone else's change is refused with what changed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput
from org.models import User
from renewals.inventory import rules
from renewals.inventory.models import Subscription, Vendor

SEEN_SALT = "renewals.subscription-edit"
TEXT_LIMITS = {"ref": 30, "product": 120, "edition": 80, "notes": rules.MAX_NOTES}


def sign_seen(snapshot: dict[str, Any]) -> str:
    return signing.dumps(snapshot, salt=SEEN_SALT, compress=True)


def read_seen(value: str) -> dict[str, Any] | None:
    """The snapshot the form was shown, or None if it is missing or was tampered with."""
    try:
        seen = signing.loads(value, salt=SEEN_SALT) if value else None
    except signing.BadSignature:
        return None
    return seen if isinstance(seen, dict) else None


class SubscriptionForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20_000)

    def __init__(
        self,
        *args: Any,
        fields: tuple[str, ...],
        vendors: Any,
        departments: Any,
        owners: Any,
        recipients: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = {"vendor": vendors, "department": departments, "owner": owners}
        for name in fields:
            self.fields[name] = self._field(name, choices, recipients)

    def _field(self, name: str, choices: dict[str, Any], recipients: Any) -> forms.Field:
        model_field: Any = Subscription._meta.get_field(name)
        label, help_text = capfirst(model_field.verbose_name), model_field.help_text
        if name in choices:
            return forms.ModelChoiceField(
                queryset=choices[name], label=label, help_text=help_text,
                required=name != "owner",
            )  # fmt: skip
        if name == "alert_recipients":
            return forms.ModelMultipleChoiceField(
                queryset=recipients, label=label, help_text=help_text, required=False,
                widget=forms.SelectMultiple(attrs={"size": 6}),
            )  # fmt: skip
        if name in ("term_start", "term_end"):
            return forms.DateField(label=label, widget=DateInput())
        if name == "unit_price":
            return forms.CharField(label=label, help_text=help_text, max_length=40)
        if name in ("seats_purchased", "notice_period_days"):
            # Any whole number: the rules say what is too small or too large.
            return forms.IntegerField(label=label, help_text=help_text)
        if name == "alert_thresholds":
            return forms.CharField(
                label=label, required=False, max_length=200,
                help_text=_("Days before the term end, e.g. 60, 30, 7; empty uses the defaults."),
            )  # fmt: skip
        if name == "tags":
            return forms.CharField(
                label=label, required=False, max_length=1000,
                help_text=_("Separated by commas."),
            )  # fmt: skip
        if name == "currency":
            return forms.CharField(
                label=label, max_length=3, help_text=_("Three-letter ISO code, e.g. USD.")
            )
        if name == "auto_renew":
            return forms.BooleanField(label=label, required=False)
        if name in ("category", "billing_cycle"):
            return forms.ChoiceField(
                label=label, help_text=help_text, required=name != "category",
                choices=[("", "—"), *model_field.choices] if name == "category" else model_field.choices,
            )  # fmt: skip
        return forms.CharField(
            label=label, help_text=help_text, required=name in ("ref", "product"),
            max_length=TEXT_LIMITS[name],
            widget=forms.Textarea(attrs={"rows": 3}) if name == "notes" else forms.TextInput,
        )  # fmt: skip

    def _rule(self, name: str, check: Any, value: Any) -> Any:
        """A rule's refusal (which names its field) as this field's error."""
        try:
            return check(value)
        except ValidationError as exc:
            raise ValidationError(exc.error_dict.get(name) or exc.messages) from None

    def clean_unit_price(self) -> Any:
        return self._rule("unit_price", rules.check_unit_price, self.cleaned_data["unit_price"])

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise ValidationError(_("Use a three-letter ISO currency code, e.g. USD."))
        return currency

    def clean_alert_thresholds(self) -> list[int]:
        text = self.cleaned_data["alert_thresholds"]
        return self._rule("alert_thresholds", rules.parse_thresholds, text)

    def clean_tags(self) -> list[str]:
        tags = self.cleaned_data["tags"].replace("，", ",").split(",")
        return self._rule("tags", rules.check_tags, tags)

    def values(self) -> dict[str, Any]:
        """What the service takes: the model's fields only."""
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "seen")}


def initial_of(subscription: Subscription) -> dict[str, Any]:
    """The form's values for a subscription as stored."""
    initial = {
        field.name: getattr(subscription, field.name)
        for field in Subscription._meta.concrete_fields
        if field.editable
    }
    initial.update(
        vendor=subscription.vendor_id,
        department=subscription.department_id,
        owner=subscription.owner_id,
        unit_price=f"{subscription.unit_price:.2f}",
        alert_thresholds=", ".join(str(d) for d in subscription.alert_thresholds),
        tags=", ".join(subscription.tags),
        alert_recipients=list(subscription.alert_recipients.values_list("pk", flat=True)),
        version=subscription.version,
    )
    return initial


def live_vendors(*, keep: int | None = None) -> Any:
    """The vendors a subscription may name: those not archived (and ``keep``, the vendor it
    already names)."""
    return Vendor.objects.filter(Q(archived_at__isnull=True) | Q(pk=keep)).order_by("name")


def active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("display_name", "username")
