from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Connections to the company's own systems: the directory (LDAP/AD, Feishu, DingTalk, WeCom,
    SCIM), later the SaaS tools' admin APIs. Sits above every other app: a leaver seen in the
    directory is acted on through renewals' services."""

    name = "integrations"
    verbose_name = _("Integrations")
