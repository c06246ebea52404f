"""Every recurring job of Renewal Desk, in one list. ``manage.py sync_schedules`` makes the
django-q2 ``Schedule`` table match it (start-up runs that right after ``migrate``).

Cron expressions are evaluated by django-q2 in settings.TIME_ZONE (Asia/Shanghai by default).
Functions are named as strings so this list imports none of the apps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Our schedules carry this prefix; sync_schedules removes prefixed rows no longer listed here and
# leaves schedules an admin created by hand alone.
PREFIX = "renewaldesk:"


@dataclass(frozen=True)
class ScheduleSpec:
    """One recurring job: what runs, and when."""

    name: str
    func: str
    # "I" = every `minutes` minutes, "C" = cron (django-q2's Schedule.MINUTES / Schedule.CRON).
    schedule_type: str
    minutes: int | None = None
    cron: str | None = None
    kwargs: dict[str, object] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return PREFIX + self.name


SCHEDULES: list[ScheduleSpec] = [
    # Every minute: proves the worker cluster is alive (shown on /healthz and the status page).
    ScheduleSpec(name="heartbeat", func="org.tasks.heartbeat", schedule_type="I", minutes=1),
    # 08:00 every day (TIME_ZONE): record the renewal alerts due today and send them. Missed
    # days need no replay: the sweep itself sends the most urgent alert that was missed.
    ScheduleSpec(
        name="alert-sweep", func="renewals.tasks.sweep_alerts", schedule_type="C", cron="0 8 * * *"
    ),
    # 09:00 on the first day of each quarter: remind finance to review and re-forecast budgets.
    ScheduleSpec(
        name="budget-quarterly-review",
        func="budgets.tasks.quarterly_review_reminder",
        schedule_type="C",
        cron="0 9 1 1,4,7,10 *",
    ),
    # 02:30 every day, when nobody books: check the ledger totals the pages show against the sums
    # of the entries, and tell finance about any difference.
    ScheduleSpec(
        name="budget-totals-reconcile",
        func="budgets.tasks.reconcile_ledger_totals",
        schedule_type="C",
        cron="30 2 * * *",
    ),
    # 03:00 every day: every stored contract file still exists and matches its SHA-256.
    ScheduleSpec(
        name="contract-integrity",
        func="contracts.tasks.integrity_check",
        schedule_type="C",
        cron="0 3 * * *",
    ),
    # 00:05 every day, just after the date changes: contracts past their end become expired,
    # contracts replaced by a newer one that has started become superseded (a missed day is
    # caught up by the next run: it compares with today, not with yesterday).
    ScheduleSpec(
        name="contract-statuses",
        func="contracts.tasks.statuses_refresh",
        schedule_type="C",
        cron="5 0 * * *",
    ),
    # 07:00 on the 1st of each month: each department's usage briefing for the month that just
    # ended, rendered in a worker (one task per department, with a time limit) and sent to its
    # heads. Idempotent: a briefing is stored once per language and sent once.
    ScheduleSpec(
        name="monthly-briefings",
        func="renewals.tasks.monthly_briefings",
        schedule_type="C",
        cron="0 7 1 * *",
    ),
    # Every minute: queue a sync of each directory source and each usage connector whose
    # interval has passed (the interval is its own setting; events arrive on their own).
    ScheduleSpec(
        name="directory-sync", func="integrations.tasks.sync_due", schedule_type="I", minutes=1
    ),
    # 10:00 every day (TIME_ZONE), when people read their mail: the idle-seat playbooks (notices
    # to holders of unused seats; revocations after the grace period). Idempotent.
    ScheduleSpec(
        name="idle-playbooks",
        func="integrations.tasks.idle_playbooks",
        schedule_type="C",
        cron="0 10 * * *",
    ),
    # Every minute: the chat apps' calls whose retry is due (new cards are sent at once).
    ScheduleSpec(
        name="chat-deliveries",
        func="integrations.tasks.chat_deliver",
        schedule_type="I",
        minutes=1,
    ),
    # Every hour: seat requests waiting for a renewal request that ended without seats open again.
    ScheduleSpec(
        name="seat-requests-reopen",
        func="renewals.tasks.reopen_seat_requests",
        schedule_type="C",
        cron="15 * * * *",
    ),
    # 06:00 every day, before people start work: raise the risks whose condition holds (auto-renew
    # near its cancellation deadline, leavers' seats, no owner, mixed editions, undecided expiry)
    # and close those whose condition is gone. Idempotent and safe to run twice at once.
    ScheduleSpec(
        name="risk-refresh",
        func="renewals.tasks.refresh_risks",
        schedule_type="C",
        cron="0 6 * * *",
    ),
    # 09:00 on the first day of each quarter: tell each risk owner, once, that risks of theirs
    # are due for the quarterly review.
    ScheduleSpec(
        name="risk-review-reminder",
        func="renewals.tasks.remind_risk_reviews",
        schedule_type="C",
        cron="0 9 1 1,4,7,10 *",
    ),
    # Every 10 minutes: compute the KPI dashboard's figures for the whole company and for each
    # head's and software admin's departments and keep them in the cache, so that the home page
    # is served from stored figures (a stale view queues its own refresh in between). Missed
    # runs need no replay: each run computes the figures as of now.
    ScheduleSpec(name="kpi-warm", func="renewals.tasks.kpi_warm", schedule_type="I", minutes=10),
    # Every minute: take over the alert deliveries of a worker that died (its claims are free
    # as soon as its database session ends) and send what is due. Retries do not wait for it: a
    # delivery run sets a one-off wake-up just before the next retry is due
    # (renewals/alerts/claims.py). Idle, a run is a handful of indexed queries.
    ScheduleSpec(
        name="alert-delivery", func="renewals.tasks.deliver_alerts", schedule_type="I", minutes=1
    ),
]
