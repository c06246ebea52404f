#!/usr/bin/env python
"""The directory sync (issue #19) against a real OpenLDAP server, against ldapsearch.

    .venv/bin/python bench/bench_directory_sync.py [--people 50000] [--departments 2000] [--repeat 3]

Starts a private slapd (tests/integrations/ldap_server.py; Debian's slapd and ldap-utils) with
a generated organisation (``tree_ldif``: nested OUs, a manager each, e-mail, mobile, employee
number; loaded with slapadd, timed), then prints, in one run:
  1. the baseline: ``ldapsearch -E pr=500/noprompt`` of the people and of the departments with
     the attributes the reader asks for, to /dev/null (the time to dump the same entries);
  2. the first full sync (``sync_source``) into an empty directory, its ratio to the dump
     (target <= 3x) and its split: the reader (``ldap.read``) and applying; the reader alone;
  3. a second, unchanged full sync (target <= 1x the dump) and an incremental sync with
     nothing changed;
  4. one leaver among ~200 seat holders: a deletion event (``remove_person``, committed) and
     ``leavers_act`` (seats flagged, admins and owner told, risk raised, clean-up campaign
     item), target <= 1 s together, the django-q2 pick-up (~1 s) not counted; and a full
     sync that notices a deletion;
  5. the queries of applying a snapshot of 1,000, 2,000 and 5,000 people (new, then
     unchanged): the count per page of 1,000 must be fixed.
Rounds interleave the dump with what is compared to it (a dump, then a sync; medians of
``--repeat``), so a machine whose load changes slows both alike; each figure notes the load.
The generated entries' modifyTimestamps are spread one second apart (the newest last), as in a
directory changed over time, so an incremental pull's overlap (60 s) re-reads a few dozen
entries; with every entry stamped alike it would re-read them all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

STAFF_OU = "ou=Staff,dc=example,dc=org"  # tree_ldif's default base
PEOPLE_ATTRS = ["entryUUID", "employeeNumber", "mail", "displayName", "cn", "mobile", "manager"]
DEPT_ATTRS = ["entryUUID", "ou"]
CHANGED = "modifyTimestamp"  # the reader adds the changed attribute to both searches
SEAT_HOLDERS, SUBSCRIPTIONS, SEATS_EACH = 200, 20, 3


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load {one:.2f} {five:.2f} {fifteen:.2f}]"


def show(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<46}{value:>12}  {note:<46}{load()}", flush=True)


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def ratio(a: float, b: float, target: float) -> str:
    verdict = "ok" if a / b <= target else "MISSED"
    return f"{a / b:.2f}x the dump (target <= {target:g}x: {verdict})"


class SpreadStamps:
    """Writes ``tree_ldif``'s text with the modifyTimestamps one second apart, the last entry
    the newest (``STAMP``): entry n of ``total`` is stamped ``STAMP - (total - 1 - n)`` s."""

    def __init__(self, out: TextIO, total: int, stamp: str) -> None:
        self.out, self.total, self.n = out, total, 0
        self.mark = f"modifyTimestamp: {stamp}\n"
        self.newest = dt.datetime.strptime(stamp, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.UTC)

    def write(self, text: str) -> int:
        if self.mark in text:
            at = self.newest - dt.timedelta(seconds=self.total - 1 - self.n)
            text = text.replace(self.mark, f"modifyTimestamp: {at:%Y%m%d%H%M%S}Z\n")
            self.n += 1
        return self.out.write(text)


def timed_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--departments", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per compared figure")
    args = parser.parse_args()
    if args.departments < 1 or args.people < args.departments + SEAT_HOLDERS + 2:
        parser.error(f"--people must be at least --departments + {SEAT_HOLDERS + 2}")
    setup_django()

    from tests.integrations.ldap_server import SLAPD, LdapServer

    if not Path(SLAPD).exists():
        sys.exit("slapd is missing: apt-get install slapd ldap-utils (devtools/packages.py)")
    workdir = Path(tempfile.mkdtemp(prefix="bench-ldap-"))
    server: LdapServer | None = None
    try:
        server = LdapServer(workdir)
        run(server, workdir, args)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(server: Any, workdir: Path, args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext
    from django.urls import get_resolver
    from django.utils import timezone
    from django_q.models import OrmQ

    from bench.generate import allow_truncate, generate_inventory
    from integrations.directory import ldap, ldap_connection, sync
    from integrations.directory.entries import ExternalDepartment, ExternalPerson, Snapshot
    from integrations.models import DirectoryLink, DirectorySource, SyncRun
    from org import services as org_services
    from org.models import User
    from renewals.cleanup.leavers import leavers_act
    from renewals.cleanup.models import CleanupCampaign
    from renewals.inventory.models import Subscription
    from renewals.risks import services as risk_services
    from tests.integrations.ldap_server import STAMP, person_dn, person_id, tree_ldif

    # The leavers' e-mails stay in memory (DEBUG's file backend would write var/mail/).
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.getLogger("django-q").setLevel(logging.WARNING)  # no "Enqueued" lines
    people, departments, repeat = args.people, args.departments, max(1, args.repeat)
    roots = max(1, departments // 50)  # as tree_ldif
    print(f"directory: {people:,} people in {departments:,} departments; {os.cpu_count()} CPUs; "
          f"medians of {repeat} interleaved rounds")  # fmt: skip

    # --- 0. the server ---------------------------------------------------------------------
    print("LDAP server (slapd, mdb)")
    ldif = workdir / "tree.ldif"
    total = 1 + departments + people  # the base OU, the departments, the people
    with ldif.open("w") as out:
        writer = cast(TextIO, SpreadStamps(out, total, STAMP))
        elapsed, _ = timed_call(lambda: tree_ldif(writer, people=people, departments=departments))
    show("generate the LDIF (tree_ldif)", secs(elapsed), f"{ldif.stat().st_size / 1e6:.1f} MB")
    elapsed, _ = timed_call(lambda: server.load(ldif))
    show("slapadd -q", secs(elapsed))
    elapsed, _ = timed_call(server.start)
    show("start slapd", secs(elapsed))

    # --- 1. the baseline ---------------------------------------------------------------------
    env = {**os.environ, "LDAPNOINIT": "1"}

    def ldapsearch(filt: str, attrs: list[str]) -> None:
        cmd = ["ldapsearch", "-x", "-H", server.url, "-D", server.root_dn, "-w"]
        cmd += [server.root_password, "-b", STAFF_OU, "-E", "pr=500/noprompt", filt, *attrs]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env)

    def dump() -> None:
        ldapsearch("(objectClass=inetOrgPerson)", [*PEOPLE_ATTRS, CHANGED])
        ldapsearch("(objectClass=organizationalUnit)", [*DEPT_ATTRS, CHANGED])

    dump()  # warm-up: slapd's caches
    dumps = [timed_call(dump)[0] for _ in range(repeat)]
    baseline = statistics.median(dumps)
    print("baseline: ldapsearch -E pr=500/noprompt, people + departments, to /dev/null")
    show("dump (median)", secs(baseline), f"min {secs(min(dumps))}, max {secs(max(dumps))}")

    # --- 2. the first full sync ----------------------------------------------------------------
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        allow_truncate(cursor)
        cursor.execute(
            "TRUNCATE integrations_directorysource, org_person, org_department_heads, "
            "org_department_software_admins, org_department, renewals_cleanupcampaign "
            "RESTART IDENTITY CASCADE"
        )
    admin, _ = User.objects.get_or_create(
        username="bench-dir-admin", defaults={"email": "it@example.net"}
    )
    org_services.user_set_roles(user=admin, roles=["it_admin"])
    owner, _ = User.objects.get_or_create(
        username="bench-dir-owner", defaults={"email": "owner@example.net"}
    )
    source = DirectorySource(
        name="Bench LDAP",
        kind=DirectorySource.Kind.LDAP,
        config={"url": server.url, "bind_dn": server.root_dn, "base_dn": STAFF_OU},
        sync_every_minutes=0,
    )
    source.set_secrets({"bind_password": server.root_password})
    source.save()

    read_times: list[float] = []
    real_reader = sync.reader_for

    def timed_reader(src: DirectorySource) -> Callable[..., Snapshot]:
        reader = real_reader(src)

        def read(s: DirectorySource, *, full: bool) -> Snapshot:
            elapsed, snapshot = timed_call(lambda: reader(s, full=full))
            read_times.append(elapsed)
            return cast(Snapshot, snapshot)

        return read

    sync.reader_for = timed_reader  # type: ignore[assignment]  # the split: reader, then applying

    def do_sync(full: bool) -> tuple[float, float, SyncRun]:
        """(seconds, the reader's seconds, run): as a worker would, with the source fresh."""
        source.refresh_from_db()
        elapsed, result = timed_call(
            lambda: sync.sync_source(source, trigger=SyncRun.Trigger.COMMAND, full=full)
        )
        assert result.status == SyncRun.Status.SUCCEEDED, (result.status, result.error)
        return elapsed, read_times[-1], result

    print("first full sync into an empty directory (sync_source, full=True)")
    first, first_read, result = do_sync(True)
    show("sync", secs(first), ratio(first, baseline, 3))
    show("  the reader (ldap.read)", secs(first_read), f"{first_read / first:.0%}")
    show("  applying", secs(first - first_read), f"{(first - first_read) / first:.0%}")
    print(f"  counts: {result.counts}")
    links = dict(
        DirectoryLink.objects.filter(source=source, kind="person").values_list(
            "external_id", "person_id"
        )
    )
    assert len(links) == people, len(links)

    def interleaved(fn: Callable[[], Any]) -> tuple[float, list[Any]]:
        """The dump's median, and what ``fn`` returned each round (dump first)."""
        dumped, results = [], []
        for _round in range(repeat):
            dumped.append(timed_call(dump)[0])
            results.append(fn())
        return statistics.median(dumped), results

    print("the reader alone (ldap.read, full=True; ldap3 decodes every entry)")
    dumped, reads = interleaved(lambda: timed_call(lambda: ldap.read(source, full=True))[0])
    reader = statistics.median(reads)
    show("read (median)", secs(reader), f"{reader / dumped:.2f}x the dump ({secs(dumped)})")

    def ldap3_floor() -> float:
        """ldap3 alone (the connection the reader opens): the same two paged searches, each
        entry only received and decoded, nothing else done with it."""
        cfg = ldap_connection.settings(source.config, source.secrets)
        conn = ldap_connection.connect(cfg)
        started = time.perf_counter()
        for filt, attrs in (("(objectClass=inetOrgPerson)", PEOPLE_ATTRS),
                            ("(objectClass=organizationalUnit)", DEPT_ATTRS)):  # fmt: skip
            found = conn.extend.standard.paged_search(
                STAFF_OU, filt, attributes=[*attrs, CHANGED], paged_size=500, generator=True
            )
            for _entry in found:
                pass
        elapsed = time.perf_counter() - started
        conn.unbind()
        return elapsed

    dumped, floors = interleaved(ldap3_floor)
    floor = statistics.median(floors)
    show("  ldap3 alone: receive and decode (median)", secs(floor),
         f"{floor / dumped:.2f}x the dump: the floor of any ldap3 reader")  # fmt: skip

    # --- 3. unchanged syncs ------------------------------------------------------------------
    print("second full sync, nothing changed")
    dumped, rounds = interleaved(lambda: do_sync(True))
    again = statistics.median(r[0] for r in rounds)
    again_read = statistics.median(r[1] for r in rounds)
    show("sync (median)", secs(again), ratio(again, dumped, 1))
    show("  the reader", secs(again_read), f"{again_read / again:.0%}")
    show("  applying", secs(again - again_read), f"{(again - again_read) / again:.0%}")
    show("  the dump in the same rounds", secs(dumped))
    print(f"  counts: {rounds[-1][2].counts}")
    print("incremental sync, nothing changed (the 60 s overlap re-reads the newest entries)")
    dumped, rounds = interleaved(lambda: do_sync(False))
    incr = statistics.median(r[0] for r in rounds)
    incr_read = statistics.median(r[1] for r in rounds)
    show("sync (median)", secs(incr), f"{incr / dumped:.2f}x the dump ({secs(dumped)})")
    show("  the reader", secs(incr_read), f"{incr_read / incr:.0%}")
    show("  applying", secs(incr - incr_read), f"{(incr - incr_read) / incr:.0%}")
    print(f"  counts: {rounds[-1][2].counts}")

    # --- 4. a leaver ---------------------------------------------------------------------------
    # People departments .. departments+199 (none heads a department) hold 3 seats each, in 20
    # subscriptions of the first 20 departments; an open clean-up campaign.
    generate_inventory(subscriptions=SUBSCRIPTIONS, usage_rows=0, seats_per_subscription=0, seed=1)
    Subscription.objects.update(seats_purchased=100, owner=owner)
    holders = [departments + k for k in range(SEAT_HOLDERS)]
    subs = list(Subscription.objects.order_by("pk").values_list("pk", flat=True))
    pairs = [(subs[(k + j) % len(subs)], links[person_id(i)])
             for k, i in enumerate(holders) for j in range(SEATS_EACH)]  # fmt: skip
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:  # the seat-limit triggers run
        cursor.execute(
            "INSERT INTO renewals_seat (subscription_id, person_id, account, assigned_on, "
            "last_active_on, revoke_reason) SELECT s, p, '', %s, %s, '' "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS t(s, p)",
            [today - dt.timedelta(days=100), today - dt.timedelta(days=2),
             [s for s, _ in pairs], [p for _, p in pairs]],
        )  # fmt: skip
    CleanupCampaign.objects.create(
        name="Bench", due_on=today + dt.timedelta(days=30), idle_days=settings.IDLE_AFTER_DAYS,
        opened_by=admin,
    )  # fmt: skip
    queued_before = OrmQ.objects.aggregate(m=Max("pk"))["m"] or 0
    risk_services.risks_refresh()  # the daily refresh has run: only the leaver's risk is new
    print(f"one leaver ({SEAT_HOLDERS} seat holders, {len(pairs)} seats in {len(subs)} "
          "subscriptions, an open clean-up campaign)")  # fmt: skip
    # A worker's first task that renders a link (reverse()) imports the URLconf and with it
    # every view (SCIM's scim2-models among them): paid once per worker process, timed apart.
    urlconf = timed_call(lambda: get_resolver().url_patterns)[0]
    gone = holders[7]
    server.delete(person_dn(gone, departments, STAFF_OU, roots))  # the source's side, not timed
    event = timed_call(
        lambda: sync.remove_person(
            source,
            person_id(gone),
            occurred_at=timezone.now(),
            event_id=f"bench-{uuid.uuid4()}",
            event_type="user.deleted",
        )  # fmt: skip
    )
    assert event[1].status == "applied", event[1]
    act = timed_call(lambda: leavers_act(person_ids=[links[person_id(gone)]], source=source.name))
    assert act[1].seats_flagged == SEATS_EACH, act[1]
    show("the event (remove_person, committed)", secs(event[0]))
    show("leavers_act", secs(act[0]), str(act[1]))
    both = event[0] + act[0]
    show("together", secs(both), f"target <= 1 s: {'ok' if both <= 1 else 'MISSED'}")
    show("  + a worker's first reverse(): URLconf", secs(urlconf), "once per process")
    print("  (+ the django-q2 worker's pick-up of the queued task, ~1 s, not counted)")
    gone = holders[8]
    server.delete(person_dn(gone, departments, STAFF_OU, roots))
    noticed, noticed_read, result = do_sync(True)
    assert result.counts.get("leavers") == 1, result.counts
    act = timed_call(lambda: leavers_act(person_ids=[links[person_id(gone)]], source=source.name))
    assert act[1].seats_flagged == SEATS_EACH, act[1]
    show("a full sync that notices a deletion", secs(noticed), f"reader {secs(noticed_read)}")
    show("  then leavers_act", secs(act[0]))
    sync.reader_for = real_reader
    OrmQ.objects.filter(pk__gt=queued_before).delete()  # the leavers' tasks: no worker here

    # --- 5. queries per page -------------------------------------------------------------------
    def snapshot(tag: str, n: int) -> Snapshot:
        depts = [ExternalDepartment(f"{tag}-d{j}", f"{tag} 部门 {j}") for j in range(20)]
        persons = [
            ExternalPerson(
                f"{tag}-p{i}",
                f"员工 {i}",
                f"{tag}-d{i % 20}",
                employee_no=f"{tag}-{i:06d}",
                email=f"{tag}.{i}@example.net",
                mobile=f"+86 138 {i:08d}",
                manager_id=f"{tag}-p{i // 10}" if i else None,
                attributes={"dn": f"uid={i}"},
            )  # fmt: skip
            for i in range(n)
        ]
        return Snapshot(
            persons, depts, {p.external_id for p in persons}, {d.external_id for d in depts}
        )

    def queries(n: int) -> tuple[int, int]:
        """Queries of applying n new people, then the same n unchanged (rolled back)."""
        counted = []
        with transaction.atomic():
            src = DirectorySource.objects.create(name=f"Q{n}", kind=DirectorySource.Kind.LDAP)
            snap = snapshot(f"q{n}", n)
            for _pass in range(2):
                run_ = SyncRun.objects.create(source=src, trigger=SyncRun.Trigger.COMMAND)
                with CaptureQueriesContext(connection) as captured:
                    sync.apply_snapshot(src, snap, run=run_, occurred_at=timezone.now())
                counted.append(len(captured))
            transaction.set_rollback(True)
        return counted[0], counted[1]

    sizes = (1000, 2000, 5000)
    counts = {n: queries(n) for n in sizes}
    print("queries of apply_snapshot (20 departments; new people, then the same unchanged)")
    fixed = True
    for which, label in ((0, "new"), (1, "unchanged")):
        q = [counts[n][which] for n in sizes]
        per_page = (q[2] - q[0]) / 4
        fixed &= q[1] - q[0] == per_page and per_page == int(per_page)
        show(f"{label}: at 1,000 / 2,000 / 5,000", " / ".join(map(str, q)),
             f"{per_page:g} per page of 1,000")  # fmt: skip
    print(f"  fixed per page: {fixed}")


if __name__ == "__main__":
    main()
