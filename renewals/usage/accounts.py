"""Seats kept in step with the accounts a tool lists (integrations' usage connectors, #20):
set-based, in the caller's transaction, within the purchased seats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

from renewals.usage.services import SEAT_REASON_MAX


@dataclass(frozen=True)
class Holder:
    """A person the tool lists with an active account: their login and last activity."""

    person_id: int
    account: str
    last_active_on: dt.date | None


@dataclass
class SeatsFollowed:
    """What following the accounts did; ``seats``: person id -> their active seat's id."""

    seats: dict[int, int] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    revoked: int = 0
    # People with an account but no seat: every purchased seat is taken (a true-up).
    over_purchased: list[int] = field(default_factory=list)


def seats_follow_accounts(
    *,
    subscription_id: int,
    holders: list[Holder],
    revoke: dict[int, int],
    reason: str,
    today: dt.date,
) -> SeatsFollowed:
    """Give each holder an active seat of the subscription (their own, its login and last
    activity brought up to date; else a new one while purchased seats are free, the most
    recently active first), and revoke the seats of ``revoke`` (seat id -> person id: accounts
    the tool deactivated or no longer lists) with ``reason``. The subscription is locked first,
    as the seat-limit triggers lock it, so a seat assigned on a page meanwhile waits."""
    done = SeatsFollowed()
    reason = reason[:SEAT_REASON_MAX]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seats_purchased FROM renewals_subscription WHERE id = %s FOR NO KEY UPDATE",
            [subscription_id],
        )
        row = cursor.fetchone()
        if row is None:
            return done
        purchased = row[0]
        if revoke:
            cursor.execute(
                "UPDATE renewals_seat SET revoked_on = greatest(%s, assigned_on), "
                "revoke_reason = %s WHERE id = ANY(%s) AND subscription_id = %s "
                "AND revoked_on IS NULL",
                [today, reason, list(revoke), subscription_id],
            )
            done.revoked = cursor.rowcount
        if not holders:  # only revoking (one account revoked in the tool): nothing to give
            return done
        cursor.execute(
            "SELECT person_id, id FROM renewals_seat WHERE subscription_id = %s "
            "AND revoked_on IS NULL",
            [subscription_id],
        )
        active = dict(cursor.fetchall())
        seated = [h for h in holders if h.person_id in active]
        if seated:
            cursor.execute(
                "UPDATE renewals_seat s SET account = CASE WHEN w.account <> '' THEN w.account "
                "ELSE s.account END, last_active_on = coalesce(w.day, s.last_active_on) "
                "FROM unnest(%s::bigint[], %s::text[], %s::date[]) AS w(person_id, account, day) "
                "WHERE s.subscription_id = %s AND s.revoked_on IS NULL "
                "AND s.person_id = w.person_id AND (s.account, s.last_active_on) IS DISTINCT "
                "FROM (CASE WHEN w.account <> '' THEN w.account ELSE s.account END, "
                "coalesce(w.day, s.last_active_on))",
                [
                    [h.person_id for h in seated],
                    [h.account[:150] for h in seated],
                    [h.last_active_on for h in seated],
                    subscription_id,
                ],
            )
            done.updated = cursor.rowcount
        waiting = [h for h in holders if h.person_id not in active]
        waiting.sort(key=lambda h: (h.last_active_on is None, -_ordinal(h), h.person_id))
        free = max(purchased - len(active), 0)
        given, done.over_purchased = waiting[:free], [h.person_id for h in waiting[free:]]
        if given:
            # Revoked today and given back today: the same assignment comes back.
            cursor.execute(
                "INSERT INTO renewals_seat (subscription_id, person_id, account, assigned_on, "
                "revoked_on, revoke_reason, last_active_on) SELECT %s, w.person_id, w.account, "
                "%s, NULL, '', w.day FROM unnest(%s::bigint[], %s::text[], %s::date[]) "
                "AS w(person_id, account, day) ON CONFLICT ON CONSTRAINT seat_unique_assignment "
                "DO UPDATE SET revoked_on = NULL, revoke_reason = '', account = EXCLUDED.account, "
                "last_active_on = coalesce(EXCLUDED.last_active_on, "
                "renewals_seat.last_active_on) RETURNING person_id, id",
                [
                    subscription_id,
                    today,
                    [h.person_id for h in given],
                    [h.account[:150] for h in given],
                    [h.last_active_on for h in given],
                ],
            )
            created = dict(cursor.fetchall())
            done.created = len(created)
            active.update(created)
    done.seats = {h.person_id: active[h.person_id] for h in holders if h.person_id in active}
    return done


def _ordinal(holder: Holder) -> int:
    return holder.last_active_on.toordinal() if holder.last_active_on else 0


def usage_from_accounts(
    *,
    subscription_id: int,
    month: dt.date,
    active_users: int,
    modules: dict[str, int] | None = None,
) -> int:
    """Record the month's active users of the whole subscription as a tool's accounts show
    them, and of each of its modules the tool names (``modules``: module name, matched to the
    subscription's modules without regard to case -> active users; names it does not have are
    left out). The month's rows are replaced, their task figures kept; how many changed."""
    month = month.replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO renewals_monthlyusage (subscription_id, module_id, month, active_users) "
            "VALUES (%s, NULL, %s, %s) ON CONFLICT ON CONSTRAINT usage_one_per_month DO UPDATE "
            "SET active_users = EXCLUDED.active_users "
            "WHERE renewals_monthlyusage.active_users <> EXCLUDED.active_users",
            [subscription_id, month, active_users],
        )
        changed = cursor.rowcount
        if modules:
            names = {name.lower(): count for name, count in modules.items()}
            cursor.execute(
                "INSERT INTO renewals_monthlyusage (subscription_id, module_id, month, "
                "active_users) SELECT %s, m.id, %s, w.n FROM renewals_module m JOIN "
                "unnest(%s::text[], %s::int[]) AS w(name, n) ON lower(m.name) = w.name "
                "WHERE m.subscription_id = %s ON CONFLICT ON CONSTRAINT usage_one_per_month "
                "DO UPDATE SET active_users = EXCLUDED.active_users "
                "WHERE renewals_monthlyusage.active_users <> EXCLUDED.active_users",
                [subscription_id, month, list(names), list(names.values()), subscription_id],
            )
            changed += cursor.rowcount
        return changed
