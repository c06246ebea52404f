"""manage.py demo_scim_tool --url http://127.0.0.1:8090/v2 --token TOKEN

Fill a SCIM 2.0 service (the ``scim2-server`` that ``dev.py start`` runs beside the demo) with the
accounts of a demo subscription, so a new IT admin can try a usage connector with nothing of
their own: the seat holders' accounts (by e-mail) of the first subscription where someone who
has left still holds a seat (in the demo: ClickUp of 测试部; ``--product`` picks another), that
leaver's among them, and two nobody here has (a contractor's, a personal e-mail). Prints what
to type into *Add a connector* (docs/connectors.md). Over the service's own SCIM API; nothing
here is changed.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Case, When

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
# Products of the demo whose vendors offer SCIM provisioning on their business plans.
SCIM_TOOLS = ("Jira Software", "Confluence", "ClickUp", "Asana", "Figma", "GitHub", "Zoom",
              "Monday.com Work Management", "Slack")  # fmt: skip
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
        parser.add_argument("--product", default="", help="default: one with a leaver's seat")

    def handle(self, *args: Any, **options: Any) -> None:
        live = Subscription.objects.filter(archived_at__isnull=True).select_related(
            "vendor", "department"
        )
        if options["product"]:
            live = live.filter(product=options["product"]).order_by("ref", "pk")
        else:  # the clean-up campaign then has a leaver's row that deactivates an account
            live = live.filter(
                seats__revoked_on__isnull=True, seats__person__status=Person.Status.LEFT
            )
            # A tool that has SCIM in real life first (the demo: ClickUp of 测试部).
            live = live.annotate(
                scim=Case(When(product__in=SCIM_TOOLS, then=0), default=1)
            ).order_by("scim", "ref", "pk")
        subscription = live.first()
        if subscription is None:
            raise CommandError("No demo subscription to fill the tool from: seed the demo first.")
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
