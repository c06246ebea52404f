"""The chat app's forms (IT admins): the common fields, then the settings and secrets of its
platform (integrations/chat/platforms/<kind>.py ``SETTINGS``). Secrets are write-only: never
shown back; left empty they keep what is stored. And the manual mapping of a user."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from integrations.chat.models import ChatApp
from integrations.chat.platforms import module_for
from integrations.forms import add_setting_fields, refuse_control_characters, settings_and_secrets
from integrations.models import DirectorySource

BASE_URL_HELP = {
    ChatApp.Kind.FEISHU: _("https://open.feishu.cn (Lark: https://open.larksuite.com)"),
    ChatApp.Kind.DINGTALK: _("https://api.dingtalk.com"),
    ChatApp.Kind.WECOM: _("https://qyapi.weixin.qq.com"),
}


class ChatAppKindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Platform"),
        choices=ChatApp.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class ChatAppForm(forms.ModelForm):
    """A chat app of one platform; the platform is chosen when it is added and fixed after."""

    class Meta:
        model = ChatApp
        fields = ["name", "base_url", "directory", "approvals", "notices", "todos", "enabled"]
        help_texts = {
            "directory": _(
                "People's ids on the platform come from this directory source; map anyone "
                "else by hand on the app's people page."
            ),
            "todos": _("DingTalk to-dos and Feishu tasks (WeCom has no to-do API)."),
        }

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = ChatApp.Kind(kind)
        self.module = module_for(self.kind)
        self.fields["base_url"].help_text = BASE_URL_HELP[self.kind]
        if not self.instance.pk:
            self.initial.setdefault("base_url", self.module.DEFAULT_BASE_URL)
        directory = self.fields["directory"]
        assert isinstance(directory, forms.ModelChoiceField)
        directory.queryset = DirectorySource.objects.filter(kind=self.kind)
        add_setting_fields(
            self, self.module.SETTINGS, instance=self.instance, require_missing_secrets=True
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = [s.key for s in self.module.SETTINGS if s.kind == "text"]
        refuse_control_characters(self, ["name", "base_url", *text])
        return data

    def settings_and_secrets(self) -> tuple[dict[str, Any], dict[str, str]]:
        return settings_and_secrets(self.cleaned_data, self.module.SETTINGS)


class IdentityForm(forms.Form):
    """Who a user is on the app, for people the directory source does not cover."""

    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )
    platform_id = forms.CharField(
        label=_("User id on the platform"),
        max_length=128,
        help_text=_("Feishu user_id, DingTalk userId (staffId) or WeCom userid."),
    )
    union_id = forms.CharField(
        label=_("DingTalk unionId"),
        max_length=128,
        required=False,
        help_text=_("DingTalk only: its to-dos are addressed by unionId."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        refuse_control_characters(self, ["platform_id", "union_id"])
        for name in ("platform_id", "union_id"):
            value = data.get(name) or ""
            if value and not all(c.isalnum() or c in "-_@.:" for c in value):
                self.add_error(name, _("Letters, digits and - _ @ . : only."))
        return data
