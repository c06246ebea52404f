from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        # Contract traps in the risk register (renewals defines the registry, never imports us).
        from contracts.terms.risks import register

        register()
