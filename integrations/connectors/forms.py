"""The usage connector's forms (IT admins): the common fields, then the settings and secrets of
the connector's kind (integrations/connectors/kinds.py). Secrets are write-only: never shown
back; left empty they keep what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.connectors.kinds import KINDS
from integrations.connectors.models import Connector, Playbook
from integrations.forms import add_setting_fields, refuse_control_characters, settings_and_secrets
from renewals.inventory.models import LIVE_STATUSES, Subscription

BASE_URL_HELP = {
    Connector.Kind.SCIM: _("The tool's SCIM base address, e.g. https://api.atlassian.com/scim/directory/…"),
    Connector.Kind.ATLASSIAN: _("Atlassian's API address: https://api.atlassian.com"),
    Connector.Kind.GITHUB: _("https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"),
    Connector.Kind.FEISHU: _("https://open.feishu.cn (Lark: https://open.larksuite.com)"),
    Connector.Kind.FILE: _("The file's address: https://… or sftp://host:22/path/file.csv"),
}  # fmt: skip


class _SubscriptionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} · {obj.ref}"


class ConnectorKindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Connector.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class ConnectorForm(forms.ModelForm):
    """A connector of one kind; the kind is chosen when it is added and fixed afterwards."""

    subscription = _SubscriptionChoice(
        label=_("Subscription"),
        queryset=Subscription.objects.filter(status__in=LIVE_STATUSES, archived_at__isnull=True)
        .select_related("vendor")
        .order_by("vendor__name", "product", "ref"),
    )

    class Meta:
        model = Connector
        fields = ["subscription", "name", "base_url", "deprovision", "sync_every_minutes",
                  "enabled"]  # fmt: skip
        help_texts = {"sync_every_minutes": _("0: only by hand.")}

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = Connector.Kind(kind)
        self.spec = KINDS[self.kind]
        self.fields["base_url"].help_text = BASE_URL_HELP[self.kind]
        if self.spec.deprovision is None:
            del self.fields["deprovision"]
        add_setting_fields(
            self, self.spec.settings, instance=self.instance, require_missing_secrets=True
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = [s.key for s in self.spec.settings if s.kind == "text"]
        refuse_control_characters(self, ["name", "base_url", *text])
        return data

    def settings_and_secrets(self) -> tuple[dict[str, Any], dict[str, str]]:
        return settings_and_secrets(self.cleaned_data, self.spec.settings)


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["idle_enabled", "idle_days", "grace_days", "leaver_enabled"]
        help_texts = {
            "idle_days": _("An account not used for this many days is idle (at least 7)."),
            "grace_days": _(
                "Its holder is told and may keep the seat; without an answer within this many "
                "days the account is revoked and the software admins are told."
            ),
            "leaver_enabled": _(
                "When the directory says someone left, their accounts are revoked."
            ),
        }
