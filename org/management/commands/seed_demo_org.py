"""Load the demo organisation: departments, people, one user per role (idempotent)."""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from org import demo, services
from org.models import Department, Person


class Command(BaseCommand):
    help = "Create the demo departments, ~150 people and one user per role (passwords printed)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        services.roles_ensure()
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        today = timezone.localdate()
        departments: dict[str, Department] = {}
        for spec in demo.DEPARTMENTS:
            departments[spec.code] = services.department_upsert(
                code=spec.code,
                name=spec.name,
                parent=departments[spec.parent] if spec.parent else None,
            )
        changed = 0
        next_no = 1
        for spec in demo.DEPARTMENTS:
            for row in demo.people_for(spec.code, next_no, spec.headcount, rng, today):
                if Person.objects.filter(employee_no=row.employee_no).exists():
                    continue  # keep whatever the demo user changed since
                _, was_changed = services.person_upsert(
                    employee_no=row.employee_no,
                    name=row.name,
                    email=row.email,
                    department=departments[spec.code],
                    status=row.status,
                    left_on=row.left_on,
                )
                changed += was_changed
            next_no += spec.headcount

        lines = []
        for i, spec_user in enumerate(demo.USERS):
            user, created = services.user_upsert(
                username=spec_user.username,
                display_name=spec_user.display_name,
                email=f"{spec_user.username}@{demo.EMAIL_DOMAIN}",
                roles=spec_user.roles,
                password=settings.DEMO_PASSWORD,
                is_staff=spec_user.staff,
            )
            if spec_user.staff:
                # Administration (Django's admin) works through model permissions, which do not
                # make anyone finance or a head (roles are groups: org/roles.py).
                user.user_permissions.set(Permission.objects.all())
            for code in spec_user.heads:
                departments[code].heads.add(user)
            for code in spec_user.administers:
                departments[code].software_admins.add(user)
            services.person_upsert(
                employee_no=f"U{i + 1:04d}",
                name=spec_user.display_name.split(" ")[0],
                email=user.email,
                department=departments[spec_user.department],
                user=user,
            )
            roles = ", ".join(spec_user.roles) or "(no role)"
            lines.append(f"  {spec_user.username:<12} {roles:<18} {spec_user.display_name}")
        self.stdout.write(
            f"demo data: {len(departments)} departments, {Person.objects.count()} people "
            f"({changed} added now)"
        )
        self.stdout.write(f"demo users (password: {settings.DEMO_PASSWORD}):")
        self.stdout.write("\n".join(lines))
