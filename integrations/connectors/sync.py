"""A connector's sync: read the tool's accounts, keep ours in step, match them to people, and
keep the subscription's seats in step with the active ones.

- One sync of a connector at a time: a second one, started meanwhile (two workers, a click
  during the schedule), ends at once as "skipped".
- The read comes first, outside any transaction: a tool that fails or times out halfway
  raises ``ConnectorError`` and nothing is applied; the next run starts again.
- Applying is one transaction: accounts are upserted by the tool's id (only what differs is
  written), the ones it no longer lists are kept as absent (never deleted). An account is
  matched to a person by e-mail, then employee number, then mobile, only when exactly one
  person fits (active people first); one mapped by hand keeps its person. Accounts matched
  to nobody are the *unknown accounts* IT maps or revokes.
- Seats (renewals.usage.accounts): every active person with an active account holds a seat
  (new ones while purchased seats are free; the others are counted as over the purchased
  seats); a seat whose account the tool deactivated or dropped is revoked with the reason.
  People who have left are never given a seat (their seats are the leaver findings').
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.connectors.entries import ConnectorError, ExternalAccount
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import Account, Connector, ConnectorRun
from org.models import Person
from renewals.usage.accounts import Holder, seats_follow_accounts, usage_from_accounts

logger = logging.getLogger(__name__)


_LOCK_SPACE = 0x5D2  # advisory lock space of connectors (the second key is the connector id)
_FIELDS = ("user_name", "display_name", "email", "employee_no", "mobile", "active",
           "last_active_at", "modules")  # fmt: skip
M = Account.MatchedBy


@contextmanager
def _only_sync(connector: Connector) -> Iterator[bool]:
    """True while this session holds the connector's sync lock (False: another sync has it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, connector.pk])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, connector.pk])


def sync_connector(
    connector: Connector, *, trigger: str = ConnectorRun.Trigger.MANUAL
) -> ConnectorRun | None:
    """Read the tool and apply it; the run (None if the connector was removed meanwhile)."""
    run = ConnectorRun.objects.create(connector=connector, trigger=trigger)
    with _only_sync(connector) as mine:
        if not mine:
            return _finish(run, ConnectorRun.Status.SKIPPED)
        started = timezone.now()
        try:
            accounts = kind_of(connector).read(connector)
        except ConnectorError as exc:
            return _finish(run, ConnectorRun.Status.FAILED, error=str(exc))
        except Exception:  # a reader bug: logged (never with credentials), shown plainly
            logger.exception("connector %s: the read failed", connector.pk)
            return _finish(run, ConnectorRun.Status.FAILED, error=_("Reading the tool failed."))
        try:
            counts = apply_accounts(connector, accounts, now=started)
        except Exception:
            logger.exception("connector %s: applying the read failed", connector.pk)
            return _finish(
                run, ConnectorRun.Status.FAILED, error=_("Applying the tool's accounts failed.")
            )
    if counts is None:  # removed while it was read
        return None
    run.counts = counts
    if counts.get("unknown") or counts.get("over_purchased") or counts.get("gone"):
        # Unknown accounts and seats over the purchase are risks: raised now, not tomorrow.
        async_task("renewals.tasks.refresh_risks")
    return _finish(run, ConnectorRun.Status.SUCCEEDED)


def _finish(run: ConnectorRun, status: str, *, error: str = "") -> ConnectorRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    ConnectorRun.objects.filter(pk=run.pk).update(
        status=status, error=error, finished_at=run.finished_at, counts=run.counts
    )
    return run


@transaction.atomic
def apply_accounts(
    connector: Connector, accounts: list[ExternalAccount], *, now: dt.datetime
) -> dict[str, int] | None:
    """Apply a read of every account; the counts (None: the connector is gone)."""
    locked = Connector.objects.select_for_update().filter(pk=connector.pk).first()
    if locked is None:
        return None
    counts: dict[str, int] = defaultdict(int)
    held = {
        row[0]: row
        for row in Account.objects.filter(connector=locked).values_list(
            "external_id", "pk", *_FIELDS, "present", "person_id", "matched_by", "seat_id"
        )
    }
    listed = {a.external_id: a for a in accounts}
    new = [a for a in accounts if a.external_id not in held]
    changed = [a for a in accounts if a.external_id in held and _differs(a, held[a.external_id])]
    counts["accounts"] = len(accounts)
    counts["new"], counts["changed"] = len(new), len(changed)
    gone = [row[1] for x, row in held.items() if x not in listed and row[10]]
    counts["gone"] = len(gone)
    _write(locked, new, changed, held, gone, now)
    rematch = {a.external_id for a in [*new, *changed]}
    rematch |= {x for x, row in held.items() if x in listed and row[11] is None}
    _match(locked, rematch, now, counts)
    follow_seats(locked, now, counts)
    _record_usage(locked, now, counts)
    counts["unknown"] = Account.objects.filter(
        connector=locked, person__isnull=True, present=True, active=True
    ).count()
    return {k: v for k, v in counts.items() if v}


def _values(account: ExternalAccount) -> tuple[object, ...]:
    """The account's values as stored, in ``_FIELDS`` order (modules as JSON)."""
    modules = {k: v.isoformat() if v else None for k, v in account.modules.items()}
    return (*astuple(account)[1:8], modules)


def _differs(account: ExternalAccount, row: tuple[object, ...]) -> bool:
    return _values(account) != row[2:10] or row[10] is not True


def _write(
    connector: Connector,
    new: list[ExternalAccount],
    changed: list[ExternalAccount],
    held: dict[str, tuple[object, ...]],
    gone: list[object],
    now: dt.datetime,
) -> None:
    """New accounts in one INSERT, changed ones in one UPDATE, absent ones marked."""
    columns = ", ".join(_FIELDS)
    arrays = "unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], " \
        "%s::boolean[], %s::timestamptz[], %s::text[]::jsonb[])"  # fmt: skip
    typed = "w.user_name, w.display_name, w.email, w.employee_no, w.mobile, w.active, " \
        "w.last, w.modules"  # fmt: skip
    shape = "w(external_id, user_name, display_name, email, employee_no, mobile, active, last, " \
        "modules)"  # fmt: skip
    with connection.cursor() as cursor:
        for rows, sql in (
            (new, f"INSERT INTO integrations_account (connector_id, external_id, {columns}, "
                  f"present, matched_by, first_seen_at, changed_at) SELECT %s, w.external_id, "
                  f"{typed}, true, '', %s, %s FROM {arrays} AS {shape}"),
            (changed, f"UPDATE integrations_account a SET ({columns}, present, changed_at) = "
                      f"({typed}, true, %s) FROM {arrays} AS {shape} WHERE "
                      f"a.connector_id = %s AND a.external_id = w.external_id"),
        ):  # fmt: skip
            if not rows:
                continue
            stored = ((a.external_id, *_values(a)) for a in rows)
            data = [list(col) for col in zip(*stored, strict=True)]
            data[-1] = [json.dumps(m) for m in data[-1]]
            if rows is new:
                cursor.execute(sql, [connector.pk, now, now, *data])
            else:
                cursor.execute(sql, [now, *data, connector.pk])
        if gone:
            cursor.execute(
                "UPDATE integrations_account SET present = false, changed_at = %s "
                "WHERE id = ANY(%s)",
                [now, gone],
            )


def _record_usage(connector: Connector, now: dt.datetime, counts: dict) -> None:
    """The month's active users of the subscription, and of each module the tool names, where
    it tells each account's last activity: the listed accounts active since the month began
    (in TIME_ZONE)."""
    listed = Account.objects.filter(connector=connector, present=True)
    if not listed.filter(last_active_at__isnull=False).exists():
        return  # the tool says nothing of activity: no figure rather than a wrong zero
    month = timezone.localdate(now).replace(day=1)
    since = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    active = listed.filter(last_active_at__gte=since).count()
    counts["active_this_month"] = active
    with connection.cursor() as cursor:  # per module: its accounts used it since the 1st
        cursor.execute(
            "SELECT lower(e.key), count(DISTINCT a.id) FILTER (WHERE e.value IS NOT NULL "
            "AND e.value::timestamptz >= %s) FROM integrations_account a "
            "CROSS JOIN LATERAL jsonb_each_text(a.modules) AS e(key, value) "
            "WHERE a.connector_id = %s AND a.present GROUP BY lower(e.key)",
            [since, connector.pk],
        )
        modules = dict(cursor.fetchall())
    usage_from_accounts(
        subscription_id=connector.subscription_id, month=month, active_users=active,
        modules=modules,
    )  # fmt: skip


def _match(connector: Connector, external_ids: set[str], now: dt.datetime, counts: dict) -> None:
    """Match these accounts (not mapped by hand) to people: e-mail, employee number, mobile."""
    if not external_ids:
        return
    rows = list(
        Account.objects.filter(connector=connector, external_id__in=external_ids)
        .exclude(matched_by=M.HAND)
        .values_list("pk", "email", "employee_no", "mobile", "person_id", "matched_by")
    )
    emails = {e.lower() for _pk, e, *_rest in rows if e}
    numbers = {n for _pk, _e, n, *_rest in rows if n}
    mobiles = {m for *_start, m, _p, _m in rows if m}
    people = Person.objects.annotate(mail=Lower("email"))
    by = {
        M.EMAIL: _unique(people.filter(mail__in=emails).values_list("mail", "pk", "status")),
        M.EMPLOYEE_NO: _unique(
            people.filter(employee_no__in=numbers).values_list("employee_no", "pk", "status")
        ),
        M.MOBILE: _unique(people.filter(mobile__in=mobiles).values_list("mobile", "pk", "status")),
    }
    updates = []
    for pk, email, number, mobile, person_id, matched_by in rows:
        found, how = None, M.NONE
        for kind, key in ((M.EMAIL, email.lower()), (M.EMPLOYEE_NO, number), (M.MOBILE, mobile)):
            if key and (found := by[kind].get(key)) is not None:
                how = kind
                break
        if (found, how) != (person_id, matched_by):
            updates.append((pk, found, str(how)))
    counts["matched"] += sum(1 for _pk, found, _how in updates if found)
    if updates:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE integrations_account a SET person_id = w.person_id, matched_by = w.how, "
                "changed_at = %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) "
                "AS w(id, person_id, how) WHERE a.id = w.id",
                [now, *[list(c) for c in zip(*updates, strict=True)]],
            )


def _unique(rows: object) -> dict[str, int]:
    """key -> person id where exactly one person has the key (active people first)."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, pk, status in rows:  # type: ignore[attr-defined]
        found[key].append((pk, status))
    result = {}
    for key, people in found.items():
        active = [pk for pk, status in people if status == Person.Status.ACTIVE]
        candidates = active or [pk for pk, _status in people]
        if len(candidates) == 1:
            result[key] = candidates[0]
    return result


def follow_account(connector: Connector, account_id: int, now: dt.datetime) -> None:
    """``follow_seats`` for one account that was just revoked or re-activated in the tool (a
    fixed number of queries, whatever the connector's size): its holder's seat goes when none
    of their accounts here is active any more, and comes back (while purchased seats are free)
    when it is active again."""
    account = Account.objects.select_related("person").filter(pk=account_id).first()
    if account is None or account.person is None:
        return
    others = Account.objects.filter(connector=connector, person=account.person, present=True,
                                    active=True).exclude(pk=account.pk).exists()  # fmt: skip
    reason = _("Deactivated in the tool (connector %(name)s)") % {"name": connector.name}
    today = timezone.localdate(now)
    if account.active and account.present:
        if account.person.status != Person.Status.ACTIVE:
            return
        day = timezone.localdate(account.last_active_at) if account.last_active_at else None
        holder = Holder(account.person_id, account.user_name or account.email, day)  # type: ignore[arg-type]
        done = seats_follow_accounts(subscription_id=connector.subscription_id, holders=[holder],
                                     revoke={}, reason=reason, today=today)  # fmt: skip
        seat = done.seats.get(account.person_id)  # type: ignore[arg-type]
        if seat and seat != account.seat_id:
            Account.objects.filter(pk=account.pk).update(seat_id=seat)
    elif account.seat_id and not others:
        seats_follow_accounts(subscription_id=connector.subscription_id, holders=[],
                              revoke={account.seat_id: account.person_id},  # type: ignore[dict-item]
                              reason=reason, today=today)  # fmt: skip


def follow_seats(connector: Connector, now: dt.datetime, counts: dict) -> None:
    """Keep the subscription's seats in step with the accounts matched to people."""
    rows = list(
        Account.objects.filter(connector=connector, person__isnull=False).values_list(
            "pk",
            "person_id",
            "person__status",
            "user_name",
            "email",
            "active",
            "present",
            "last_active_at",
            "seat_id",
        )  # fmt: skip
    )
    holders: dict[int, Holder] = {}
    keeping: set[int] = set()
    for _pk, person, status, name, email, active, present, last, _seat in rows:
        if not (active and present):
            continue
        keeping.add(person)
        if status != Person.Status.ACTIVE:
            continue
        day = timezone.localdate(last) if last else None
        old = holders.get(person)
        if old is None or (day or dt.date.min) > (old.last_active_on or dt.date.min):
            holders[person] = Holder(person, name or email, day)
    revoke = {
        seat: person
        for _pk, person, _s, _n, _e, active, present, _l, seat in rows
        if seat and not (active and present) and person not in keeping
    }
    done = seats_follow_accounts(
        subscription_id=connector.subscription_id,
        holders=list(holders.values()),
        revoke=revoke,
        reason=_("Deactivated in the tool (connector %(name)s)") % {"name": connector.name},
        today=timezone.localdate(now),
    )
    counts["seats_created"] += done.created
    counts["seats_updated"] += done.updated
    counts["seats_revoked"] += done.revoked
    counts["over_purchased"] += len(done.over_purchased)
    links = [(pk, done.seats[p]) for pk, p, *_r, active, present, _l, seat in rows
             if active and present and p in done.seats and seat != done.seats[p]]  # fmt: skip
    if links:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE integrations_account a SET seat_id = w.seat_id FROM "
                "unnest(%s::bigint[], %s::bigint[]) AS w(id, seat_id) WHERE a.id = w.id",
                [[pk for pk, _s in links], [s for _pk, s in links]],
            )
