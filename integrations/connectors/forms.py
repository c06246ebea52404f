"""The usage connector's form (IT admins): the token is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.connectors.models import Connector
from integrations.forms import refuse_control_characters
from renewals.inventory.models import LIVE_STATUSES, Subscription


class _SubscriptionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} · {obj.ref}"


class ConnectorForm(forms.ModelForm):
    subscription = _SubscriptionChoice(
        label=_("Subscription"),
        queryset=Subscription.objects.filter(status__in=LIVE_STATUSES, archived_at__isnull=True)
        .select_related("vendor")
        .order_by("vendor__name", "product", "ref"),
    )
    token = forms.CharField(
        label=_("API token"),
        required=False,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("A token of an admin account of the tool, for its SCIM API. Sent as Bearer."),
    )
    page_size = forms.IntegerField(
        label=_("Accounts per page"), min_value=1, max_value=1000, required=False, initial=100
    )
    timeout = forms.IntegerField(
        label=_("Time-out (seconds)"), min_value=1, max_value=300, required=False, initial=30
    )
    last_active_attribute = forms.CharField(
        label=_("Attribute of the last activity"),
        required=False,
        max_length=300,
        help_text=_("Optional: the SCIM attribute holding the last sign-in, if the tool has one."),
    )

    field_order = ["subscription", "name", "base_url", "token", "deprovision",
                   "sync_every_minutes", "enabled", "page_size", "timeout",
                   "last_active_attribute"]  # fmt: skip

    class Meta:
        model = Connector
        fields = [
            "subscription",
            "name",
            "base_url",
            "deprovision",
            "sync_every_minutes",
            "enabled",
        ]
        help_texts = {
            "base_url": _("The tool's SCIM base address, e.g. https://api.atlassian.com/scim/directory/…"),
            "sync_every_minutes": _("0: only by hand."),
        }  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for key in ("page_size", "timeout", "last_active_attribute"):
                self.initial[key] = self.instance.config.get(key)
            if self.instance.secrets.get("token"):
                self.fields["token"].help_text = _(
                    "A token is stored (never shown). Leave empty to keep it."
                )
        else:
            self.fields["token"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        refuse_control_characters(self, ["name", "base_url", "token", "last_active_attribute"])
        return data

    def config(self) -> dict[str, Any]:
        keys = ("page_size", "timeout", "last_active_attribute")
        return {k: self.cleaned_data[k] for k in keys if self.cleaned_data.get(k) not in (None, "")}
