"""One rule for ids in filters, on every list page and every API list endpoint, for every role:
the choices offered are only what the user may see, and an id of another department's object is
answered exactly like an id that does not exist ("Select a valid choice": 400 on the API, the
error under the field on a page).

Generic: the API's endpoints are read from its router, every filter is inspected, and a filter
naming a model (a department, vendor, subscription, person, budget, contract, owner...) must offer
scoped choices. The pages are listed here; a FilterSet that neither an API endpoint nor a listed
page uses fails the test, so a new list cannot be forgotten."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import django_filters
import pytest
from django import forms
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from budgets.models import Budget
from config.api_urls import router
from contracts.models import Contract
from contracts.services import contract_save
from org.models import Department, Person, User
from renewals.inventory.models import Subscription, Vendor
from renewals.risks.models import Risk
from renewals.suggestions.models import Suggestion
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SubscriptionFactory, VendorFactory

pytestmark = pytest.mark.django_db

ROLES = ["it_admin", "finance", "auditor", "head_a", "head_b", "software_admin", "employee"]
SEE_ALL = {"it_admin", "finance", "auditor"}
OF_A = {"head_a", "software_admin"}

# The list pages with filters (url name); the API's list endpoints come from its router.
PAGES = [
    "renewals:subscription-list",
    "renewals:request-list",
    "renewals:suggestion-list",
    "renewals:risk-list",
    "renewals:calendar",
    "contracts:contract-list",
    "org:person-list",
    "audit-list",
]
# A form field of a page that names objects by a plain choice list: the model it names.
FIELD_MODELS: dict[str, type[Model]] = {"department": Department, "owner": User}


@dataclass
class World:
    """Objects of department A (with its sub-department) and of department B, by model."""

    a: dict[type[Model], set[int]] = field(default_factory=dict)
    b: dict[type[Model], set[int]] = field(default_factory=dict)

    def add(self, side: str, *objects: Model) -> None:
        for obj in objects:
            getattr(self, side).setdefault(type(obj), set()).add(obj.pk)

    def own(self, role: str, model: type[Model]) -> set[int]:
        """Objects the role may see (a sample for see-all roles: A's and B's)."""
        if role in SEE_ALL:
            return self.a.get(model, set()) | self.b.get(model, set())
        if role in OF_A:
            return self.a.get(model, set())
        return self.b.get(model, set()) if role == "head_b" else set()

    def forbidden(self, role: str, model: type[Model]) -> set[int]:
        """Objects the role may not see."""
        if role in SEE_ALL:
            return set()
        both = self.a.get(model, set()) | self.b.get(model, set())
        return both - self.own(role, model)


def _department_side(
    cast: Cast, world: World, side: str, department: Department, subscription: Subscription
) -> None:
    person = PersonFactory.create(department=department)
    seat = Seat.objects.create(
        subscription=subscription, person=person, assigned_on=dt.date(2026, 1, 1)
    )
    owner = make_user(f"owner_{side}")
    risk = Risk.objects.create(
        category="other", title=f"risk {side}", department=department, subscription=subscription,
        owner=owner,
    )  # fmt: skip
    contract = contract_save(
        user=cast.it_admin,
        subscription=subscription,
        data={
            "number": f"{side}-C-1", "counterparty": f"counterparty {side}",
            "valid_from": dt.date(2027, 1, 1), "valid_to": dt.date(2027, 12, 31),
            "total_value": 1000,
        },
    )  # fmt: skip
    budget = Budget.objects.get_or_create(department=department, year=2027)[0]
    suggestion = Suggestion.objects.create(
        subscription=subscription, author=cast.it_admin, title=f"suggestion {side}"
    )
    world.add(side, department, person, seat, owner, risk, contract, budget, suggestion)
    world.add(side, subscription, subscription.vendor)


@pytest.fixture
def world(cast: Cast) -> World:
    world = World()
    vendor_a, vendor_b = VendorFactory.create(name="Vendor of A"), VendorFactory.create(name="B's")
    cast.subscription_a.vendor = vendor_a
    cast.subscription_a.save()
    sub_child = SubscriptionFactory.create(department=cast.dept_a_child, vendor=vendor_a)
    sub_b = SubscriptionFactory.create(department=cast.dept_b, vendor=vendor_b, ref="B-1")
    _department_side(cast, world, "a", cast.dept_a, cast.subscription_a)
    _department_side(cast, world, "b", cast.dept_b, sub_b)
    world.add("a", cast.dept_a_child, sub_child, cast.person_a, cast.budget_a)
    return world


@pytest.fixture
def clients(cast: Cast) -> dict[str, Client]:
    found = {}
    for role in ROLES:
        client = Client()
        client.force_login(getattr(cast, role))
        found[role] = client
    return found


# --- what a filter offers --------------------------------------------------------------------


@dataclass
class IdFilter:
    """A filter naming objects of ``model``: the values it offers (None: checked one by one)."""

    name: str
    model: type[Model]
    offered: set[int] | None
    field: forms.Field


def _related_model(model: type[Model], path: str) -> type[Model] | None:
    """The model a filter's field path (``subscription__vendor``) ends on, if a relation."""
    for part in path.split("__"):
        try:
            found = model._meta.get_field(part)
        except Exception:  # noqa: BLE001 - not a model field (a method filter)
            return None
        if not found.is_relation or found.related_model is None:
            return None
        model = found.related_model
    return model


def _values(choices: Any) -> set[int]:
    return {int(value) for value, _label in choices if str(value).isdigit()}


def _id_filter(name: str, form_field: forms.Field, model: type[Model] | None) -> IdFilter | None:
    if isinstance(form_field, forms.ModelChoiceField):
        assert form_field.queryset is not None
        return IdFilter(name, form_field.queryset.model, None, form_field)
    if model is None:
        return None
    if isinstance(form_field, forms.ChoiceField):
        return IdFilter(name, model, _values(form_field.choices), form_field)
    # An id typed freely (a number box on a foreign key): nothing limits it to the user's scope.
    pytest.fail(f"filter {name!r} names {model.__name__} objects but offers no scoped choices")


def filterset_id_filters(filterset: django_filters.FilterSet) -> list[IdFilter]:
    found = []
    for name, filter_ in filterset.filters.items():
        model = _related_model(filterset._meta.model, filter_.field_name)
        if (one := _id_filter(name, filterset.form.fields[name], model)) is not None:
            found.append(one)
    return found


def form_id_filters(form: forms.Form) -> list[IdFilter]:
    found = []
    for name, form_field in form.fields.items():
        if (one := _id_filter(name, form_field, FIELD_MODELS.get(name))) is not None:
            found.append(one)
    return found


def accepts(id_filter: IdFilter, pk: int) -> bool:
    if id_filter.offered is not None:
        return pk in id_filter.offered
    try:
        id_filter.field.clean(str(pk))
    except forms.ValidationError:
        return False
    return True


def check_offered(where: str, role: str, id_filter: IdFilter, world: World) -> None:
    """No object of another department is offered, and the user's own are."""
    model = id_filter.model
    for pk in world.forbidden(role, model):
        assert not accepts(id_filter, pk), f"{where} {id_filter.name}: {role} offered {pk}"
    for pk in world.own(role, model):
        assert accepts(id_filter, pk), f"{where} {id_filter.name}: {role} not offered {pk}"


def nonexistent(model: type[Model]) -> int:
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    return int(last) + 1000


# --- the API ---------------------------------------------------------------------------------


def api_endpoints() -> Iterator[tuple[str, type[django_filters.FilterSet]]]:
    for prefix, viewset, _basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        assert not getattr(viewset, "filterset_fields", None), (
            f"{prefix}: filterset_fields builds unscoped choices; use a FilterSet class"
        )
        if filterset_class is not None:
            yield f"/api/v1/{prefix}/", filterset_class


def _filterset(filterset_class: type[django_filters.FilterSet], user: User) -> Any:
    kwargs: dict[str, Any] = {"queryset": filterset_class._meta.model._default_manager.none()}
    if "user" in inspect.signature(filterset_class.__init__).parameters:
        kwargs["user"] = user
    return filterset_class({}, **kwargs)


def test_api_filters_offer_only_the_users_objects_and_refuse_others_like_nothing(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    checked = 0
    for url, filterset_class in api_endpoints():
        for role in ROLES:
            client, user = clients[role], getattr(cast, role)
            if client.get(url).status_code != 200:
                continue  # the endpoint is not theirs (the role x URL matrix checks that)
            for id_filter in filterset_id_filters(_filterset(filterset_class, user)):
                check_offered(url, role, id_filter, world)
                missing = nonexistent(id_filter.model)
                refused = client.get(url, {id_filter.name: missing})
                assert refused.status_code == 400, (url, role, id_filter.name)
                assert id_filter.name in refused.json()
                expected = refused.content.decode()  # the value sent is not repeated
                for pk in world.forbidden(role, id_filter.model):
                    answer = client.get(url, {id_filter.name: pk})
                    assert answer.status_code == 400, (url, role, id_filter.name, pk)
                    assert answer.content.decode() == expected
                for pk in sorted(world.own(role, id_filter.model))[:1]:
                    assert client.get(url, {id_filter.name: pk}).status_code == 200
                checked += 1
    assert checked > 40  # every endpoint's id filters, for every role that may list it


def test_api_detail_of_another_departments_object_is_a_404_like_a_missing_one(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    kinds = {"departments": Department, "people": Person, "vendors": Vendor,
             "subscriptions": Subscription, "seats": Seat, "contracts": Contract,
             "budgets": Budget}  # fmt: skip
    for prefix, model in kinds.items():
        for role in ("head_a", "head_b", "software_admin"):
            client = clients[role]
            missing = client.get(f"/api/v1/{prefix}/{nonexistent(model)}/")
            assert missing.status_code in (403, 404), (prefix, role)
            for pk in world.forbidden(role, model):
                answer = client.get(f"/api/v1/{prefix}/{pk}/")
                assert (answer.status_code, answer.json()) == (
                    missing.status_code,
                    missing.json(),
                ), (prefix, role)


# --- the pages -------------------------------------------------------------------------------


def page_id_filters(response: Any) -> tuple[list[IdFilter], Any]:
    """The page's id filters and a function giving the errors shown under one of them."""
    context = response.context
    if "department_errors" in context:  # the calendar: a select of the user's departments
        departments = {d.pk for d in context["departments"]}
        field_ = forms.ChoiceField(choices=[(pk, "") for pk in departments])
        return [IdFilter("department", Department, departments, field_)], (
            lambda r, name: list(r.context["department_errors"])
        )
    found = context.get("filter") or context.get("form")
    if isinstance(found, django_filters.FilterSet):
        return filterset_id_filters(found), (
            lambda r, name: list(r.context["filter"].form.errors.get(name, []))
        )
    key = "filter" if "filter" in context else "form"
    return form_id_filters(found), lambda r, name: list(r.context[key].errors.get(name, []))


def test_page_filters_offer_only_the_users_objects_and_refuse_others_like_nothing(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    checked = 0
    for name in PAGES:
        url = reverse(name)
        for role in ROLES:
            client = clients[role]
            page = client.get(url)
            if page.status_code != 200:
                continue  # not their page
            id_filters, errors = page_id_filters(page)
            for id_filter in id_filters:
                check_offered(url, role, id_filter, world)
                missing = nonexistent(id_filter.model)
                refused = client.get(url, {id_filter.name: missing})
                expected = errors(refused, id_filter.name)
                assert refused.status_code == 200 and expected, (url, role, id_filter.name)
                for pk in world.forbidden(role, id_filter.model):
                    answer = client.get(url, {id_filter.name: pk})
                    assert answer.status_code == 200
                    assert errors(answer, id_filter.name) == expected, (url, role, pk)
                for pk in sorted(world.own(role, id_filter.model))[:1]:
                    assert errors(client.get(url, {id_filter.name: pk}), id_filter.name) == []
                checked += 1
    assert checked > 25


def test_every_filterset_is_checked_by_an_api_endpoint_or_a_listed_page(
    cast: Cast, clients: dict[str, Client]
) -> None:
    """A new list (page or API) with a FilterSet must be added to PAGES or the router."""
    used = {filterset_class for _url, filterset_class in api_endpoints()}
    for name in PAGES:
        found = clients["it_admin"].get(reverse(name)).context
        filterset = found.get("filter") if found is not None else None
        if isinstance(filterset, django_filters.FilterSet):
            used.add(type(filterset))

    def subclasses(cls: type) -> Iterator[type]:
        sub: type
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        cls
        for cls in subclasses(django_filters.FilterSet)
        if cls.__module__.split(".")[0] in {"config", "org", "budgets", "renewals", "contracts"}
    }
    assert ours - used == set()


# --- a person's page -------------------------------------------------------------------------


def test_a_persons_page_lists_only_the_seats_the_viewer_may_see(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    """Person A also holds a seat of department B's tool: head A sees only A's seat (and no
    name of B's tool), like the API's seat list; the roles that see everything see both."""
    sub_b = Subscription.objects.get(ref="B-1")
    sub_b.product = "Secret tool of B"
    sub_b.save()
    Seat.objects.create(subscription=cast.subscription_a, person=cast.person_a, assigned_on=dt.date(2026, 1, 1))  # fmt: skip
    Seat.objects.create(subscription=sub_b, person=cast.person_a, assigned_on=dt.date(2026, 1, 1))
    url = reverse("renewals:person-detail", args=[cast.person_a.pk])
    for role in ("head_a", "software_admin"):
        page = clients[role].get(url)
        assert page.status_code == 200
        assert [s.subscription_id for s in page.context["seats"]] == [cast.subscription_a.pk]
        body = page.content.decode()
        assert "Secret tool of B" not in body and sub_b.ref not in body
        api_seats = clients[role].get("/api/v1/seats/", {"person": cast.person_a.pk}).json()
        assert {s["subscription"] for s in api_seats["results"]} == {cast.subscription_a.pk}
    for role in SEE_ALL:
        page = clients[role].get(url)
        assert {s.subscription_id for s in page.context["seats"]} == {
            cast.subscription_a.pk,
            sub_b.pk,
        }
        assert "Secret tool of B" in page.content.decode()
    assert clients["head_b"].get(url).status_code == 404


# --- ids in bodies ---------------------------------------------------------------------------


def _scrubbed(response: Any, pk: int) -> tuple[int, str]:
    """Status and body, the id sent replaced (DRF's 'Invalid pk "5"' repeats it)."""
    return response.status_code, response.content.decode().replace(str(pk), "ID")


def test_an_id_of_another_department_in_a_body_is_refused_like_a_missing_one(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    """Opening a request (subscription) and adding a person (department) through the API."""
    cases = [
        ("/api/v1/requests/", "subscription", Subscription, {}),
        ("/api/v1/people/", "department", Department, {"employee_no": "E-new", "name": "新人"}),
    ]
    for url, name, model, extra in cases:
        for role in ("head_a", "head_b", "software_admin"):
            client = clients[role]
            missing = nonexistent(model)
            expected = _scrubbed(
                client.post(url, {**extra, name: missing}, content_type="application/json"),
                missing,
            )
            assert expected[0] == 400, (url, role)
            for pk in world.forbidden(role, model):
                answer = client.post(url, {**extra, name: pk}, content_type="application/json")
                assert _scrubbed(answer, pk) == expected, (url, role)
    assert not Person.objects.filter(employee_no="E-new").exists()


def test_the_budget_years_filter_takes_whole_numbers_only(
    cast: Cast, clients: dict[str, Client]
) -> None:
    """The schema says integer; a decimal was read as a number and answered with an empty list
    (found by the API fuzzer once the department filter's schema changed)."""
    client = clients["finance"]
    assert client.get("/api/v1/budgets/", {"year": "2027"}).json()["count"] == 1
    for value in ("2027.5", "-1.7e-31", "year"):
        assert client.get("/api/v1/budgets/", {"year": value}).status_code == 400, value
