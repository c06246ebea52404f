from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Budgets")

    def ready(self) -> None:
        from django.core import checks

        from core import db_guards, db_roles

        # After every migrate: TRUNCATE is refused on the ledger, its totals and every audit
        # table, including those a later migration adds (core.db_guards).
        post_migrate.connect(
            db_guards.install_after_migrate, sender=self, dispatch_uid="renewaldesk-truncate-guards"
        )
        # The database role the app runs as must not be able to get round those guards.
        checks.register(db_roles.check_database_role)
