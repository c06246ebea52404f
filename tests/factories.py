"""factory_boy factories shared by every test module."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from org.models import Department, Person, User
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.usage.models import Seat

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password(PASSWORD)


class DepartmentFactory(DjangoModelFactory[Department]):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"d{n}")
    name = factory.Sequence(lambda n: f"部门{n}")


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    employee_no = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    email = factory.LazyAttribute(lambda p: f"{p.employee_no.lower()}@example.test")
    department = factory.SubFactory(DepartmentFactory)


class VendorFactory(DjangoModelFactory[Vendor]):
    class Meta:
        model = Vendor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Vendor {n}")


class SubscriptionFactory(DjangoModelFactory[Subscription]):
    class Meta:
        model = Subscription

    ref = factory.Sequence(lambda n: f"SUB-{n:04d}")
    vendor = factory.SubFactory(VendorFactory)
    product = factory.Sequence(lambda n: f"Product {n}")
    department = factory.SubFactory(DepartmentFactory)
    seats_purchased = 10
    unit_price = Decimal("1000.00")
    currency = "CNY"
    billing_cycle = "annual"
    term_start = dt.date(2026, 1, 1)
    term_end = dt.date(2026, 12, 31)


class ModuleFactory(DjangoModelFactory[Module]):
    class Meta:
        model = Module

    subscription = factory.SubFactory(SubscriptionFactory)
    name = factory.Sequence(lambda n: f"Module {n}")


class SeatFactory(DjangoModelFactory[Seat]):
    class Meta:
        model = Seat

    subscription = factory.SubFactory(SubscriptionFactory)
    person = factory.SubFactory(PersonFactory)
    assigned_on = dt.date(2026, 1, 1)
