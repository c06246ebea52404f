"""The demo users of this database with what each may do, for `dev.py start`'s banner."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from org import demo
from org.models import User
from org.roles import Role, roles_of

# What each demo user is there to try (English: the console is not translated).
WHAT = {
    "admin": "IT admin: inventory, imports, alerts, chat channels, records executions, Administration",
    "finance": "finance: budgets and ledger, final approval above 50,000 CNY",
    "head_rd": "head of 研发中心 (and 测试部): approves its requests, sees its figures",
    "head_mkt": "head of 市场部: approves its requests, sees its figures",
    "swadmin_rd": "software admin of 研发中心: its seats, usage, renewal requests",
    "auditor": "auditor: reads everything, the audit trail; changes nothing",
    "employee": "employee of 销售部, no role: My software (their seats), suggestions",
}


def banner_lines() -> list[str]:
    """One line per demo user present in the database (none when the demo was not loaded)."""
    usernames = [spec.username for spec in demo.USERS]
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=usernames, email__endswith=f"@{demo.EMAIL_DOMAIN}", is_active=True
        )
    }
    lines = []
    for username in usernames:
        user = users.get(username)
        if user is None:
            continue
        roles = ", ".join(str(Role(r).label) for r in sorted(roles_of(user))) or "no role"
        what = WHAT.get(username, roles)
        lines.append(f"  {username:<11} {what} ({user.get_full_name()})")
    return lines


class Command(BaseCommand):
    help = "Print the demo users of this database, what each may do, and the demo password."

    def handle(self, *args: Any, **options: Any) -> None:
        lines = banner_lines()
        if not lines:
            self.stdout.write("no demo users in this database")
            return
        self.stdout.write(f"demo users (password: {settings.DEMO_PASSWORD}):")
        self.stdout.write("\n".join(lines))
