from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        # Contract traps in the risk register (renewals defines the registry, never imports us).
        from contracts.terms.review import facts, pdf_checklist
        from contracts.terms.risks import register
        from renewals.requests.legal import register_contract_facts

        register()
        # Legal review steps on renewal requests whose contract has traps (renewals' registry).
        register_contract_facts(facts, pdf_checklist)
