from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Connections to the company's own systems: the directory (LDAP/AD, Feishu, DingTalk, WeCom,
    SCIM), the SaaS tools' own admin APIs (usage connectors). Sits above every other app: a leaver seen in the
    directory is acted on through renewals' services."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # A seat revoked in renewals (clean-up, findings) deactivates the account in the tool.
        from integrations.connectors import risks
        from integrations.connectors.reclaim import ConnectorReclaimer
        from renewals.usage import reclaim

        reclaim.register(ConnectorReclaimer())
        # Unknown accounts and seats over the purchase are risks in the register.
        risks.register()
        # Approvers, owners and software admins get cards in their own chat (#21).
        from integrations.chat.cards import ChatOutlet
        from renewals.notify import outlets

        outlets.register(ChatOutlet())
