"""manage.py demo_scim_tool --url http://127.0.0.1:8090/v2 --token TOKEN

Fill a SCIM 2.0 service (the ``scim2-server`` that ``dev.py start`` runs beside the demo) with the
accounts of a demo subscription, so a new IT admin can try a usage connector with nothing of
their own: the seat holders' accounts of the demo's Jira Software (by e-mail), the account of
someone who has left, and two nobody here has (a contractor's, a personal e-mail). Prints what
to type into *Add a connector* (docs/connectors.md). Over the service's own SCIM API; nothing
here is changed.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
STRANGERS = (("contractor.li", "li.contractor@partner-example.com", "Li (contractor)"),
             ("zhang.home", "zhangwei1988@163.com", "张伟"))  # fmt: skip


def _user(name: str, email: str, display: str) -> dict[str, Any]:
    return {"schemas": [CORE], "userName": name, "displayName": display, "active": True,
            "emails": [{"value": email, "primary": True, "type": "work"}]}  # fmt: skip


class Command(BaseCommand):
    help = "Fill a local SCIM service with a demo subscription's accounts (to try connectors)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", required=True, help="the SCIM base, e.g. http://127.0.0.1:8090/v2"
        )
        parser.add_argument("--token", required=True, help="the service's bearer token")
        parser.add_argument("--product", default="Jira Software")

    def handle(self, *args: Any, **options: Any) -> None:
        subscription = (
            Subscription.objects.filter(product=options["product"], archived_at__isnull=True)
            .select_related("vendor", "department")
            .order_by("pk")
            .first()
        )
        if subscription is None:
            raise CommandError(
                f"No demo subscription of {options['product']!r}: seed the demo first."
            )
        holders = Seat.objects.filter(subscription=subscription, revoked_on__isnull=True)
        people = list(
            Person.objects.filter(pk__in=holders.values("person_id"))
            .exclude(email="")
            .order_by("pk")[:40]
        )
        left = Person.objects.filter(status=Person.Status.LEFT).exclude(email="").exclude(
            pk__in=[p.pk for p in people]).order_by("pk").first()  # fmt: skip
        users = [_user(p.email.split("@")[0], p.email, p.name) for p in people]
        if left is not None:
            users.append(_user(left.email.split("@")[0], left.email, left.name))
        users += [_user(*stranger) for stranger in STRANGERS]
        headers = {"Authorization": f"Bearer {options['token']}",
                   "Content-Type": "application/scim+json"}  # fmt: skip
        made = 0
        try:
            with httpx.Client(
                base_url=options["url"].rstrip("/"), headers=headers, timeout=10
            ) as c:
                for body in users:
                    response = c.post("/Users", json=body)
                    if response.status_code == 409:  # already there (a second start)
                        continue
                    response.raise_for_status()
                    made += 1
        except httpx.HTTPError as exc:
            raise CommandError(f"The SCIM service at {options['url']} failed: {exc}") from exc
        self.stdout.write(
            f"Demo SCIM tool at {options['url']}: {made} accounts added for "
            f"{subscription.display_name} ({subscription.ref}, {subscription.department}). "
            f"To try a usage connector: Manage → Usage connectors → Add, kind SCIM, that address, "
            f"API token {options['token']}, last-activity attribute meta.lastModified."
        )
