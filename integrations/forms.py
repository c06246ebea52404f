"""The directory-source form (IT admins): the common fields, then the settings and secrets of
the source's kind. Secrets are write-only: never shown back; left empty they keep what is stored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.models import DirectorySource
from integrations.setting import Setting

K = DirectorySource.Kind
SETTINGS: dict[str, list[Setting]] = {
    K.LDAP: [
        Setting("url", _("Server"), required=True,
                help=_("ldaps://dc1.example.cn:636 or ldap://ldap.example.cn:389")),
        Setting("start_tls", _("StartTLS on ldap://"), kind="bool"),
        Setting("ca_file", _("CA certificate file"),
                help=_("Path on the server of the CA bundle that signed the directory's certificate.")),
        Setting("flavour", _("Directory"), kind="choice",
                choices=(("auto", _("Detect")), ("openldap", "OpenLDAP"), ("ad", "Active Directory"))),
        Setting("bind_dn", _("Bind DN"), required=True),
        Setting("bind_password", _("Bind password"), secret=True),
        Setting("base_dn", _("People base DN"), required=True),
        Setting("user_filter", _("People filter"),
                help=_("Default: inetOrgPerson entries (OpenLDAP); users without computers (AD).")),
        Setting("disabled_filter", _("Left / disabled filter"),
                help=_("Entries matching it have left, e.g. (employeeType=left); AD's disabled accounts always count.")),
        Setting("department_base_dn", _("Departments base DN"),
                help=_("Default: the people base DN.")),
        Setting("department_from", _("Department from"),
                help=_("'ou': the person's organisational unit; or an attribute name, e.g. department.")),
        Setting("timeout", _("Time-out (seconds)"), kind="int"),
    ],
    K.FEISHU: [
        Setting("base_url", _("Open platform address"),
                help=_("Default https://open.feishu.cn (Lark: https://open.larksuite.com).")),
        Setting("app_id", _("App ID"), required=True),
        Setting("app_secret", _("App secret"), secret=True),
        Setting("root_department_name", _("Name of the tenant's top department"),
                help=_("For people placed directly under the tenant; default: the source's name.")),
        Setting("encrypt_key", _("Encrypt Key (events)"), secret=True),
        Setting("verification_token", _("Verification Token (events)"), secret=True),
    ],
    K.DINGTALK: [
        Setting("base_url", _("Open platform address"), help=_("Default https://oapi.dingtalk.com.")),
        Setting("app_key", _("AppKey"), required=True),
        Setting("app_secret", _("AppSecret"), secret=True),
        Setting("corp_id", _("Corp ID"), help=_("Checked on events when given.")),
        Setting("root_department_id", _("Top department id"), help=_("Default 1 (the whole company).")),
        Setting("root_department_name", _("Name of the top department"),
                help=_("For people placed directly under it; default: the source's name.")),
        Setting("read_managers", _("Read each person's manager (one more call per person)"),
                kind="bool", default=True),
        Setting("callback_token", _("Event callback token"), secret=True),
        Setting("callback_aes_key", _("Event callback aes_key (43 characters)"), secret=True),
    ],
    K.WECOM: [
        Setting("base_url", _("API address"), help=_("Default https://qyapi.weixin.qq.com.")),
        Setting("corp_id", _("Corp ID"), required=True),
        Setting("corp_secret", _("Secret of the app that reads the contacts"), secret=True),
        Setting("root_department_id", _("Top department id"), help=_("Default 1.")),
        Setting("root_department_name", _("Name of the top department"),
                help=_("For people placed directly under it; default: the source's name.")),
        Setting("employee_no_attr", _("Custom attribute holding the employee number")),
        Setting("callback_token", _("Callback Token"), secret=True),
        Setting("callback_aes_key", _("Callback EncodingAESKey"), secret=True),
    ],
    K.SCIM: [],
}  # fmt: skip


def setting_field(setting: Setting, *, stored_secret: bool) -> forms.Field:
    required = setting.required and not setting.secret
    common: dict[str, Any] = {
        "label": setting.label,
        "required": required,
        "help_text": setting.help,
    }
    if setting.secret:
        note = _("Set; leave empty to keep it.") if stored_secret else _("Not set.")
        return forms.CharField(
            max_length=4000, widget=forms.PasswordInput(render_value=False),
            **{**common, "required": False, "help_text": note},
        )  # fmt: skip
    if setting.kind == "bool":
        return forms.BooleanField(**{**common, "required": False})
    if setting.kind == "int":
        return forms.IntegerField(
            min_value=setting.min_value, max_value=setting.max_value, **common
        )
    if setting.kind == "choice":
        return forms.ChoiceField(choices=setting.choices, **common)
    return forms.CharField(max_length=1000, strip=True, **common)


def add_setting_fields(
    form: forms.BaseForm,
    settings: Iterable[Setting],
    *,
    instance: Any,
    prefix: str = "",
    require_missing_secrets: bool = False,
) -> None:
    """A field per setting of the kind (``prefix`` + key), filled from ``instance.config``;
    secrets are write-only (never filled). ``require_missing_secrets``: a required secret not
    stored yet must be given."""
    stored = instance.secrets if instance.pk else {}
    for setting in settings:
        name = prefix + setting.key
        field = setting_field(setting, stored_secret=bool(stored.get(setting.key)))
        if require_missing_secrets and setting.secret and setting.required:
            field.required = not stored.get(setting.key)
        form.fields[name] = field
        if not setting.secret and instance.pk:
            form.initial[name] = instance.config.get(setting.key)
        elif setting.default is not None:
            form.initial[name] = setting.default


def settings_and_secrets(
    cleaned: dict[str, Any], settings: Iterable[Setting], *, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """What the form's setting fields hold: the settings, and the secrets given (an empty one
    keeps what is stored)."""
    config: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for setting in settings:
        value = cleaned.get(prefix + setting.key)
        if setting.secret:
            if value:
                secrets[setting.key] = value
        elif value not in (None, ""):
            config[setting.key] = value
    return config, secrets


def settings_shown(settings: Iterable[Setting], instance: Any) -> list[tuple[str, str]]:
    """The settings as a page shows them: values, and for secrets only set / not set."""
    shown = []
    for setting in settings:
        value: object
        if setting.secret:
            value = _("set") if instance.secrets.get(setting.key) else _("not set")
        else:
            stored = instance.config.get(setting.key)
            value = "—" if stored in (None, "") else stored
        shown.append((str(setting.label), str(value)))
    return shown


def refuse_control_characters(form: forms.BaseForm, names: list[str]) -> None:
    """An error on each of these fields whose text holds a control character."""
    for name in names:
        value = form.cleaned_data.get(name)
        if isinstance(value, str) and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            form.add_error(name, _("Control characters are not allowed."))


class SourceForm(forms.ModelForm):
    """A source of one kind; ``kind`` is chosen when it is added and fixed afterwards."""

    class Meta:
        model = DirectorySource
        fields = ["name", "enabled", "sync_every_minutes"]

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        add_setting_fields(self, SETTINGS[kind], instance=self.instance, prefix="cfg_")
        self.fields["sync_every_minutes"].help_text = _("0: only by hand (and by events).")
        if kind == K.SCIM:
            del self.fields["sync_every_minutes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        refuse_control_characters(self, [f"cfg_{s.key}" for s in SETTINGS[self.kind]])
        if self.kind == K.LDAP:
            url = str(data.get("cfg_url") or "")
            if url and not url.lower().startswith(("ldap://", "ldaps://")):
                self.add_error("cfg_url", _("Give an ldap:// or ldaps:// address."))
        for key in ("cfg_base_url",):
            url = str(data.get(key) or "")
            if url and not url.lower().startswith(("https://", "http://")):
                self.add_error(key, _("Give an https:// address."))
        return data

    def settings_and_secrets(self) -> tuple[dict[str, Any], dict[str, str]]:
        return settings_and_secrets(self.cleaned_data, SETTINGS[self.kind], prefix="cfg_")


class KindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=DirectorySource.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto mw-100"}),
    )
