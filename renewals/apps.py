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

        # An executed renewal rolls the subscription over to its new term (the inventory's
        # service, called by renewals.requests): the pending alerts of the old term stop. The
        # alerts sit above both, so they listen rather than being called; the receiver runs in
        # the roll-over's transaction.
        from renewals.alerts.services import alerts_stop_for_renewed_term
        from renewals.inventory.services import term_rolled_over

        term_rolled_over.connect(alerts_stop_for_renewed_term, dispatch_uid="alerts-stop-renewed")
