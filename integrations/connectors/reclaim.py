"""The usage connectors as renewals' ``Reclaimer`` (renewals/usage/reclaim.py): a seat revoked
in a clean-up campaign or from a finding deactivates its holder's accounts in the tools whose
connectors list them. Registered in integrations/apps.py."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.connectors import revoking
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import Account, Connector, Revocation
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat
from renewals.usage.reclaim import AutomaticRevocation, ToolAccount, UnknownAccounts

SOURCES = {"campaign": Revocation.Source.CAMPAIGN, "seat": Revocation.Source.SEAT,
           "leaver": Revocation.Source.LEAVER}  # fmt: skip


def _accounts(seat_ids: list[int]) -> list[Account]:
    """The listed accounts of these seats' holders in the tools whose connectors belong to the
    seats' subscriptions, each with ``for_seat`` (one query)."""
    seat = Seat.objects.filter(
        pk__in=seat_ids,
        person_id=OuterRef("person_id"),
        subscription_id=OuterRef("connector__subscription_id"),
    ).order_by("-pk")
    seats = Seat.objects.filter(pk__in=seat_ids)
    return list(
        Account.objects.filter(
            present=True,
            connector__enabled=True,  # a connector IT turned off acts on nothing
            person_id__in=seats.values("person_id"),
            connector__subscription_id__in=seats.values("subscription_id"),
        )
        .annotate(for_seat=Subquery(seat.values("pk")[:1]))
        .filter(for_seat__isnull=False)
        .select_related("connector")
        .order_by("connector__name", "user_name", "pk")
    )


class ConnectorReclaimer:
    def tool_accounts(self, seat_ids: list[int]) -> dict[int, list[ToolAccount]]:
        accounts = _accounts(seat_ids)
        latest: dict[int, Revocation] = {
            r.account_id: r
            for r in Revocation.objects.filter(
                account__in=accounts, action=Revocation.Action.REVOKE
            ).order_by("account_id", "-created_at", "-pk").distinct("account_id")
        }  # fmt: skip
        found: dict[int, list[ToolAccount]] = defaultdict(list)
        for account in accounts:
            seat = account.for_seat  # type: ignore[attr-defined]
            last = latest.get(account.pk)
            if last is not None and last.status == Revocation.Status.DONE and account.active:
                last = None  # undone (re-activated) since: revoking would deactivate it again
            if last is None and not account.active:
                continue  # inactive in the tool, not by us: nothing to do there
            can = kind_of(account.connector).deprovision is not None
            found[seat].append(
                ToolAccount(
                    seat_id=seat,
                    tool=account.connector.name,
                    account=account.user_name or account.email or account.external_id,
                    status=last.status if last else "",
                    status_label=str(last.get_status_display()) if last else "",
                    error=last.last_error if last else "",
                    can_revoke=can,
                    url=reverse("integrations:connector-detail", args=[account.connector_id]),
                )  # fmt: skip
            )
        return dict(found)

    def unknown_accounts(self, subscriptions: Any) -> list[UnknownAccounts]:
        rows = (
            Account.objects.filter(
                present=True,
                active=True,
                person__isnull=True,
                connector__subscription__in=subscriptions,
            )  # fmt: skip
            .values("connector_id", "connector__name", "connector__subscription_id")
            .annotate(n=Count("pk"))
            .order_by("-n", "connector__name")
        )
        names = {
            s.pk: s.display_name
            for s in Subscription.objects.filter(
                pk__in={r["connector__subscription_id"] for r in rows}
            ).select_related("vendor")
        } if rows else {}  # fmt: skip
        return [
            UnknownAccounts(
                subscription_id=r["connector__subscription_id"],
                subscription=names.get(r["connector__subscription_id"], ""),
                tool=r["connector__name"],
                count=r["n"],
                url=reverse("integrations:connector-detail", args=[r["connector_id"]]),
            )  # fmt: skip
            for r in rows
        ]

    def automatic_revocations(
        self, *, since: Any, until: Any, department_ids: set[int]
    ) -> list[AutomaticRevocation]:
        rows = Revocation.objects.filter(
            source__in=[Revocation.Source.IDLE, Revocation.Source.LEAVER],
            action=Revocation.Action.REVOKE, created_at__gte=since,
            account__connector__subscription__department_id__in=department_ids,
        ).select_related("account__person", "account__connector__subscription__vendor")  # fmt: skip
        if until is not None:
            rows = rows.filter(created_at__lte=until)
        return [
            AutomaticRevocation(
                department_id=r.account.connector.subscription.department_id,
                subscription=r.account.connector.subscription.display_name,
                person=r.account.person.name if r.account.person else "",
                tool=r.account.connector.name,
                account=r.account.user_name or r.account.email or r.account.external_id,
                trigger=str(r.get_source_display()),
                reason=r.reason,
                status=str(r.get_status_display()),
                at=r.created_at,
            )  # fmt: skip
            for r in rows.order_by("created_at", "pk")[:2000]
        ]

    def revoke(self, seat_ids: list[int], *, user: Any, source: str, reason: str) -> int:
        accounts = _accounts(seat_ids)
        by_connector: dict[int, tuple[Connector, dict[int, int]]] = {}
        for account in accounts:
            if not account.active:
                continue
            seat = account.for_seat  # type: ignore[attr-defined]
            by_connector.setdefault(account.connector_id, (account.connector, {}))[1][
                account.pk
            ] = seat
        made = 0
        for connector, seats in by_connector.values():
            made += len(
                revoking.revocations_request(
                    connector=connector,
                    account_ids=list(seats),
                    user=user,
                    reason=reason or _("Seat revoked"),
                    source=SOURCES.get(source, source),
                    seats=seats,
                )  # fmt: skip
            )
        return made
