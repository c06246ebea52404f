"""New-purchase intake (新购申请): a request for a tool not yet in the inventory.

A new purchase is a RenewalRequest with purpose NEW whose subscription is a *proposed* one
(Subscription.Status.PROPOSED: not live, counted nowhere as inventory), created with the request
and its first quote in one transaction. From then on it is an ordinary request: the same quotes,
tiers, segregation of duties, budget check and commitment; execution (renewals.execution)
makes the subscription active, a rejection or cancellation archives it (common.archive_proposed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from org.models import Department, Person, User
from org.scoping import requestable_departments
from renewals.inventory.models import Subscription, Vendor
from renewals.inventory.models.subscriptions import Category
from renewals.inventory.services.vendors import _lock_name as lock_vendor_name
from renewals.inventory.services.vendors import clean_vendor
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import Purpose, RenewalRequest, RequestEvent, term_after
from renewals.requests.services.common import record_event
from renewals.requests.services.pricing import quote_rate

MAX_SEATS = 1_000_000
MAX_MODULES = 50
MAX_PEOPLE = 1_000
MAX_TEXT = 5_000


class AlreadyHas(ValidationError):
    """The department already has (or already asks for) this product: ``subscription`` is it."""

    def __init__(self, subscription: Subscription) -> None:
        super().__init__(
            _("Your department already has %(product)s.") % {"product": subscription.display_name},
            code="already_has",
        )
        self.subscription = subscription


def intake_departments(user: User) -> QuerySet[Department]:
    """Where ``user`` may ask for a new tool (org.scoping.requestable_departments)."""
    return requestable_departments(user)


def resolve_people(entries: Sequence[str]) -> list[Person]:
    """Employee numbers or e-mails, one per entry, to active people of the company; unknown
    entries and people who left are refused with every offender named."""
    wanted: list[str] = []
    for entry in entries:
        text = entry.strip()
        if text and text.casefold() not in {w.casefold() for w in wanted}:
            wanted.append(text)
    if len(wanted) > MAX_PEOPLE:
        raise ValidationError(_("Name at most %(max)d people.") % {"max": MAX_PEOPLE})
    if not wanted:
        return []
    emails = [w.casefold() for w in wanted if "@" in w]
    numbers = [w for w in wanted if "@" not in w]
    found = list(
        Person.objects.annotate(email_key=Lower("email")).filter(
            Q(employee_no__in=numbers) | Q(email_key__in=emails)
        )
    )
    by_key = {p.employee_no: p for p in found} | {p.email.casefold(): p for p in found if p.email}
    unknown = [w for w in wanted if (w.casefold() if "@" in w else w) not in by_key]
    if unknown:
        raise ValidationError(
            _("Nobody in the directory is %(entries)s.") % {"entries": ", ".join(unknown[:20])}
        )
    people: dict[int, Person] = {}
    for w in wanted:
        person = by_key[w.casefold() if "@" in w else w]
        people[person.pk] = person
    left = [str(p) for p in people.values() if p.has_left]
    if left:
        raise ValidationError(
            _("%(people)s left the company and cannot be given a seat.")
            % {"people": ", ".join(left[:20])}
        )
    return list(people.values())


def _vendor(vendor: Vendor | None, vendor_name: str) -> Vendor:
    """The chosen vendor (not archived), or the one named: an existing one whatever its case,
    else a new one, under the vendor list's rules and name lock (renewals.inventory.services
    .vendors: anyone asking for a tool may name its vendor, only IT admins edit vendors)."""
    if vendor is not None:
        if vendor.archived_at is not None:
            raise ValidationError(_("This vendor is archived; choose another one."))
        return vendor
    if not vendor_name.strip():
        raise ValidationError(_("Choose a vendor or type the name of a new one."))
    name = clean_vendor({"name": vendor_name})["name"]
    lock_vendor_name(name)
    existing = Vendor.objects.filter(name__iexact=name).first()
    if existing is not None:
        if existing.archived_at is not None:
            raise ValidationError(
                _("The vendor %(name)s is archived; ask IT to restore it.") % {"name": existing}
            )
        return existing
    created = Vendor(name=name)
    created.full_clean()
    created.save()
    return created


def _check_text(product: str, edition: str, justification: str, modules: Sequence[str]) -> None:
    if not product:
        raise ValidationError(_("Name the product."))
    if len(product) > 120 or len(edition) > 80:
        raise ValidationError(_("The product or edition name is too long."))
    if not justification:
        raise ValidationError(_("Say why the company needs this tool."))
    if len(justification) > MAX_TEXT:
        raise ValidationError(
            _("The justification is too long (at most %(max)d characters).") % {"max": MAX_TEXT}
        )
    if len(modules) > MAX_MODULES or any(len(m) > 80 for m in modules):
        raise ValidationError(
            _("At most %(max)d modules of up to 80 characters each.") % {"max": MAX_MODULES}
        )


def _check_numbers(seats: int, term_months: int, unit_price: Decimal, people: int) -> None:
    if not 1 <= seats <= MAX_SEATS:
        raise ValidationError(
            _("Enter a number of seats between 1 and %(max)d.") % {"max": MAX_SEATS}
        )
    if not 1 <= term_months <= 120:
        raise ValidationError(_("The term lasts between 1 and 120 months."))
    if unit_price < 0 or unit_price >= Decimal("1e10"):
        raise ValidationError(_("Enter a unit price between 0 and 9,999,999,999.99."))
    if people > seats:
        raise ValidationError(
            _("%(people)d people are named for %(seats)d seats: ask for more seats or name fewer.")
            % {"people": people, "seats": seats}
        )


def _proposed(subscription: Subscription) -> Subscription:
    """Save ``subscription`` as proposed, its reference NEW-<id> (NEW-00042)."""
    subscription.status = Subscription.Status.PROPOSED
    subscription.ref = f"NEW-{uuid.uuid4().hex[:12]}"
    subscription.full_clean(exclude=["owner"])
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:  # the same product asked for at the same moment
        raise ValidationError(
            _("This department already has a subscription to this product.")
        ) from None
    ref = f"NEW-{subscription.pk:05d}"
    if not Subscription.objects.filter(ref=ref).exists():
        subscription.ref = ref
        subscription.save(update_fields=["ref"])
    return subscription


@transaction.atomic
def new_purchase_create(
    *,
    user: User,
    department: Department,
    product: str,
    seats: int,
    unit_price: Decimal,
    currency: str,
    term_start: dt.date,
    term_months: int,
    justification: str,
    vendor: Vendor | None = None,
    vendor_name: str = "",
    edition: str = "",
    category: str = "",
    modules: Sequence[str] = (),
    billing_cycle: str = "annual",
    people: Sequence[str] = (),
) -> RenewalRequest:
    """Open a new-purchase request: the proposed subscription (ref NEW-<id>), the request and
    its first quote (the estimated price), all or nothing. Refused: a department the user may
    not ask for, a product the department already has or asks for, bad numbers, a currency
    without a rate, unknown people or people who left, more people than seats."""
    if not intake_departments(user).filter(pk=department.pk).exists():
        raise PermissionDenied
    product, edition = " ".join(product.split()), " ".join(edition.split())
    justification = justification.strip()
    names = list(dict.fromkeys(n for n in (" ".join(m.split()) for m in modules) if n))
    _check_text(product, edition, justification, names)
    if category and category not in Category.values:
        raise ValidationError(_("Choose a category from the list."))
    found = resolve_people(people)
    _check_numbers(seats, term_months, unit_price, len(found))
    chosen_vendor = _vendor(vendor, vendor_name)
    # The same product in the department (bought or asked for); two intakes racing past this
    # check meet the unique constraint (refused in _proposed).
    clash = (
        Subscription.objects.select_for_update()
        .filter(department=department, vendor=chosen_vendor, archived_at__isnull=True)
        .filter(product__iexact=product)
        .select_related("vendor")
        .first()
    )
    if clash is not None:
        raise AlreadyHas(clash)
    start, end = term_after(term_start - dt.timedelta(days=1), term_months)
    subscription = _proposed(
        Subscription(
            vendor=chosen_vendor, product=product, edition=edition, category=category,
            department=department, seats_purchased=seats, unit_price=unit_price,
            currency=currency, billing_cycle=billing_cycle, term_start=start, term_end=end,
        )
    )  # fmt: skip
    request = RenewalRequest(
        subscription=subscription,
        department=department,
        requested_by=user,
        purpose=Purpose.NEW,
        justification=justification,
        proposed_seats=seats,
        proposed_modules=names,
        proposed_edition=edition,
        proposed_term_start=start,
        proposed_term_end=end,
        currency=currency,
    )
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    quote = Quote(
        request=request,
        vendor_name=chosen_vendor.name,
        product=product,
        edition=edition,
        seats=seats,
        unit_price=unit_price,
        currency=currency,
        billing_cycle=billing_cycle,
        term_months=term_months,
        notes=_("Estimated price, from the new-purchase request."),
    )
    quote_rate(quote, lock=True)  # refused (nothing written) when the table has no rate for it
    quote.full_clean()
    quote.save()
    request.chosen_quote = quote
    request.save(update_fields=["chosen_quote"])
    if found:
        request.proposed_people.set(found)
    record_event(request, user, RequestEvent.Kind.CREATED, subscription.display_name)
    return request
