"""A department's chat robot for alerts (IT admins)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from renewals.notify.models import ChatChannel


class ChatChannelForm(forms.ModelForm):
    """A department's chat robot. The secret is write-only: left empty it keeps the stored one."""

    url = forms.URLField(label=_("Webhook URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("DingTalk SEC… / Feishu secret. Never shown again; leave empty to keep it."),
    )

    field_order = ["department", "name", "kind", "url", "secret", "is_active"]

    class Meta:
        model = ChatChannel
        fields = ["department", "name", "kind", "url", "is_active"]  # and the secret, declared
