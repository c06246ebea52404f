from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RenewalsConfig(AppConfig):
    name = "renewals"
    verbose_name = _("Renewals")

    def ready(self) -> None:
        # The budget ledger names and links the requests its entries came from.
        from budgets.references import register
        from renewals.requests.selectors.ledger import LABEL, request_name, request_sources

        register(LABEL, request_sources, request_name)
