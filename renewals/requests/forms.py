"""Forms of the renewal loop. Amounts are read strictly (digits, at most two decimals); fields a
user may not set (status, amounts after submission, department, approvers) are not fields."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from budgets.money import parse_amount, parse_currency
from core.widgets import DateInput
from org.models import Person
from renewals.inventory.models import BillingCycle, Vendor
from renewals.inventory.models.subscriptions import Category
from renewals.inventory.services import ModuleLine
from renewals.requests.models.approvals import APPROVER_ROLES, ApprovalStep, ApprovalTier
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import Assessment, Purpose, RenewalRequest
from renewals.requests.services import EDITABLE_FIELDS, QUOTE_FIELDS, quote_rate
from renewals.requests.services.intake import intake_departments

_PERCENT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")


class _ParsedField(forms.CharField):
    """A text field read by one of budgets.money's strict parsers (empty → None)."""

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def clean(self, value: Any) -> Any:
        text = (super().clean(value) or "").strip()
        return self.parse(text) if text else None


class MoneyField(_ParsedField):
    """A non-negative amount: digits with at most two decimals (no 5e4, 1,000, NaN, -0 …)."""

    def __init__(self, *, allow_zero: bool = True, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def parse(self, text: str) -> Decimal:
        return parse_amount(text, allow_zero=self.allow_zero)


class PercentField(_ParsedField):
    def parse(self, text: str) -> Decimal:
        if not _PERCENT.match(text) or Decimal(text) > 100:
            raise forms.ValidationError(_("Enter a percentage between 0 and 100."))
        return Decimal(text)


class CurrencyField(_ParsedField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("initial", settings.BASE_CURRENCY)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return parse_currency(forms.CharField.clean(self, value) or "")


class CommaListField(forms.CharField):
    """Names separated by commas (or the Chinese comma / enumeration mark), each kept once."""

    def __init__(
        self, *, max_items: int, max_item_length: int, too_many: Any, **kwargs: Any
    ) -> None:
        self.max_items, self.max_item_length, self.too_many = max_items, max_item_length, too_many
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value: Any) -> list[str]:
        names = [n.strip() for n in re.split(r"[,，、]", super().clean(value) or "") if n.strip()]
        if len(names) > self.max_items or any(len(n) > self.max_item_length for n in names):
            raise forms.ValidationError(self.too_many)
        return list(dict.fromkeys(names))


def ModulesField(**kwargs: Any) -> CommaListField:  # noqa: N802 - used like a field class
    return CommaListField(
        max_items=50, max_item_length=80,
        too_many=_("At most 50 modules of at most 80 characters each."), **kwargs,
    )  # fmt: skip


class ModuleRowForm(forms.Form):
    """One module of a quote or of an execution; a row left empty is ignored."""

    name = forms.CharField(label=_("Module"), max_length=80, required=False)
    unit_price = MoneyField(label=_("Unit price"), required=False)
    seats = forms.IntegerField(
        label=_("Seats"), required=False, min_value=1, max_value=1_000_000,
        help_text=_("Empty: every seat."),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["name"] = (data.get("name") or "").strip()
        if not data["name"] and (data.get("unit_price") is not None or data.get("seats")):
            self.add_error("name", _("Name the module."))
        return data


MAX_MODULES = 50


class BaseModuleFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names = [f.cleaned_data.get("name") for f in self.forms if f.cleaned_data.get("name")]
        if len({n.casefold() for n in names}) != len(names):
            raise forms.ValidationError(_("List each module once."))

    def lines(self) -> list[ModuleLine]:
        """The rows filled in, as the services take them."""
        return [
            ModuleLine(
                name=f.cleaned_data["name"],
                unit_price=f.cleaned_data.get("unit_price"),
                seats=f.cleaned_data.get("seats"),
            )
            for f in self.forms
            if f.cleaned_data.get("name")
        ]


ModuleFormSet = forms.formset_factory(
    ModuleRowForm, formset=BaseModuleFormSet, extra=2, max_num=MAX_MODULES,
    validate_max=True, absolute_max=MAX_MODULES,
)  # fmt: skip


def module_formset(
    data: Any, *, initial: list[dict[str, Any]], price_help: str
) -> BaseModuleFormSet:
    """The module rows of a quote or an execution form (prefix "modules")."""
    formset = ModuleFormSet(data, prefix="modules", initial=initial)
    assert isinstance(formset, BaseModuleFormSet)
    formset.price_help = price_help  # type: ignore[attr-defined]
    return formset


# What a renewal may be for (a new purchase has its own form, NewPurchaseForm).
RENEWAL_PURPOSES = [(value, label) for value, label in Purpose.choices if value != Purpose.NEW]


class StartRequestForm(forms.Form):
    purpose = forms.ChoiceField(label=_("What is the renewal for?"), choices=RENEWAL_PURPOSES)
    justification = forms.CharField(
        label=_("Justification"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
        required=False,
    )  # fmt: skip


PEOPLE_HELP = _("Employee numbers or e-mails, separated by commas or new lines.")


def split_people(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,，、;；]+", text) if p]


class RequestForm(forms.ModelForm):
    proposed_modules = ModulesField(
        label=_("Proposed modules"), required=False, max_length=4000,
        help_text=_("Separated by commas; modules left out are dropped at execution."),
    )  # fmt: skip

    class Meta:
        model = RenewalRequest
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "justification": forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
            "proposed_term_start": DateInput(),
            "proposed_term_end": DateInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new purchase stays one, a renewal stays a renewal (the service refuses the switch).
        purpose = self.fields["purpose"]
        assert isinstance(purpose, forms.ChoiceField)
        if self.instance.purpose == Purpose.NEW:
            purpose.choices = [(Purpose.NEW.value, Purpose.NEW.label)]
            # A new purchase names who gets its seats (services.drafting.request_update).
            self.fields["people"] = forms.CharField(
                label=_("Who gets a seat"), required=False, max_length=100_000,
                widget=forms.Textarea(attrs={"rows": 3}), help_text=PEOPLE_HELP,
                initial="\n".join(
                    self.instance.proposed_people.values_list("employee_no", flat=True)
                ),
            )  # fmt: skip
        else:
            purpose.choices = RENEWAL_PURPOSES

    def clean_people(self) -> list[str]:
        return split_people(self.cleaned_data.get("people") or "")

    def clean_justification(self) -> str:
        text: str = self.cleaned_data["justification"]
        if len(text) > 5000:
            raise forms.ValidationError(_("At most 5,000 characters."))
        return text

    def clean_proposed_seats(self) -> int:
        seats: int = self.cleaned_data["proposed_seats"]
        if seats > 1_000_000:
            raise forms.ValidationError(_("At most 1,000,000 seats."))
        return seats


class QuoteForm(forms.ModelForm):
    unit_price = MoneyField(label=_("Unit price"))
    one_off_fees = MoneyField(label=_("One-off fees"), required=False)
    currency = CurrencyField(
        label=_("Currency"),
        help_text=_(
            "Another currency is converted with the latest rate in the rates table, kept by "
            "finance; a currency the table has no rate for is refused."
        ),
    )
    discount_percent = PercentField(label=_("Discount %"), required=False)
    price_increase_cap_percent = PercentField(
        label=_("Renewal price-increase cap %"), required=False
    )

    class Meta:
        model = Quote
        fields = list(QUOTE_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def clean_seats(self) -> int:
        seats: int = self.cleaned_data["seats"]
        if seats > 1_000_000:
            raise forms.ValidationError(_("At most 1,000,000 seats."))
        return seats

    def clean_term_months(self) -> int:
        months: int = self.cleaned_data["term_months"]
        if not 1 <= months <= 120:
            raise forms.ValidationError(_("A term lasts 1 to 120 months."))
        return months

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal(0)
        elif data["discount_percent"] >= 100:
            self.add_error("discount_percent", _("A discount must be below 100%."))
        if data.get("one_off_fees") is None:
            data["one_off_fees"] = Decimal(0)
        if data.get("currency"):
            # The rate is the rates table's (the service takes it again when saving); the
            # instance carries it so that the model's own check passes, and a currency without
            # a recorded rate is refused here, on its field.
            try:
                self.instance.currency = data["currency"]
                quote_rate(self.instance)
            except forms.ValidationError as exc:
                self.add_error("currency", exc)
        return data


class AssessmentForm(forms.Form):
    perspective = forms.ChoiceField(label=_("As"), choices=Assessment.Perspective.choices)
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), choices=Assessment.Recommendation.choices
    )
    comment = forms.CharField(
        label=_("Assessment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def __init__(self, *args: Any, perspectives: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["perspective"].choices = [  # type: ignore[attr-defined]
            (value, label)
            for value, label in Assessment.Perspective.choices
            if value in perspectives
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ApprovalStep.Decision.choices)
    step = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=1000)


class ExecuteForm(forms.Form):
    """What was bought and paid; it starts from the chosen quote (selectors.requests
    .execution_initial), modules come from a module formset."""

    order_ref = forms.CharField(label=_("Order / contract no."), max_length=80)
    fapiao_no = forms.CharField(label=_("Fapiao (invoice) no."), max_length=80, required=False)
    actual_amount = MoneyField(label=_("Actual amount paid"))
    actual_currency = CurrencyField(
        label=_("Currency"),
        help_text=_(
            "Converted with the recorded rate: the chosen quote's for its currency, else the "
            "latest in the rates table."
        ),
    )
    term_start = forms.DateField(
        label=_("New term starts"),
        widget=DateInput(),
    )
    term_end = forms.DateField(
        label=_("New term ends"),
        widget=DateInput(),
    )
    seats = forms.IntegerField(label=_("Seats"), min_value=0, max_value=1_000_000)
    edition = forms.CharField(label=_("Edition / plan"), max_length=80, required=False)
    unit_price = MoneyField(
        label=_("Unit price"), help_text=_("Per seat and billing period, in the currency below.")
    )
    currency = CurrencyField(
        label=_("Subscription currency"),
        help_text=_(
            "When it changes, prices not entered here are converted with the recorded rate."
        ),
    )
    billing_cycle = forms.ChoiceField(label=_("Billing cycle"), choices=BillingCycle.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("actual_amount") is None and "actual_amount" not in self.errors:
            self.add_error("actual_amount", _("This field is required."))
        start, end = data.get("term_start"), data.get("term_end")
        if start and end and end <= start:
            self.add_error("term_end", _("The new term must end after it starts."))
        return data


ROLE_CHOICES = [("", "—"), *APPROVER_ROLES]


class TierForm(forms.ModelForm):
    """A tier with up to three approvers in order."""

    min_amount = MoneyField(label=_("From (CNY, inclusive)"))
    max_amount = MoneyField(
        label=_("Up to (CNY, exclusive)"), required=False, help_text=_("Empty: no upper limit.")
    )
    approver_1 = forms.ChoiceField(label=_("First approver"), choices=APPROVER_ROLES)
    approver_2 = forms.ChoiceField(label=_("Then"), choices=ROLE_CHOICES, required=False)
    approver_3 = forms.ChoiceField(label=_("Then"), choices=ROLE_CHOICES, required=False)
    legal_above = MoneyField(
        label=_("Legal review from this amount (CNY)"), required=False,
        help_text=_("Empty: no amount rule."),
    )  # fmt: skip

    class Meta:
        model = ApprovalTier
        fields = [
            "name", "min_amount", "max_amount", "legal_if_flagged", "legal_if_auto_renews",
            "legal_above",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = list(self.instance.roles or []) if self.instance.pk else []
        for number, role in enumerate(roles[:3], start=1):
            self.fields[f"approver_{number}"].initial = role

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        roles = [data.get(f"approver_{n}") for n in (1, 2, 3)]
        chosen = [r for r in roles if r]
        if len(set(chosen)) != len(chosen):
            raise forms.ValidationError(_("Each approver role may appear once per tier."))
        self.instance.roles = chosen
        return data


class NewPurchaseForm(forms.Form):
    """A tool not yet in the inventory (新购申请): what, how many, for whom, at what estimated
    price; the service (services.intake.new_purchase_create) checks it all again."""

    department = forms.ModelChoiceField(label=_("Department"), queryset=Vendor.objects.none())
    vendor = forms.ModelChoiceField(
        label=_("Vendor"), queryset=Vendor.objects.none(), required=False,
        empty_label=_("— a new vendor, named below —"),
    )  # fmt: skip
    vendor_name = forms.CharField(
        label=_("Or a new vendor"), max_length=120, required=False,
        help_text=_("Only when the vendor is not in the list."),
    )  # fmt: skip
    product = forms.CharField(label=_("Product"), max_length=120)
    edition = forms.CharField(label=_("Edition / plan"), max_length=80, required=False)
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "—"), *Category.choices], required=False,
        help_text=_("What the tool is for: the tools the company already has for it are shown."),
    )  # fmt: skip
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=1_000_000)
    modules = ModulesField(
        label=_("Modules"), required=False, max_length=4000,
        help_text=_("Separated by commas."),
    )  # fmt: skip
    billing_cycle = forms.ChoiceField(
        label=_("Billing cycle"), choices=BillingCycle.choices, initial=BillingCycle.ANNUAL
    )
    term_start = forms.DateField(label=_("Wished start"), widget=DateInput())
    term_months = forms.IntegerField(
        label=_("Term (months)"), min_value=1, max_value=120, initial=12
    )
    unit_price = MoneyField(
        label=_("Estimated unit price"),
        help_text=_("Per seat and billing period; it becomes the first quote."),
    )
    currency = CurrencyField(
        label=_("Currency"),
        help_text=_("A currency the rates table has no rate for is refused."),
    )
    justification = forms.CharField(
        label=_("Why does the company need it?"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
    )  # fmt: skip
    people = forms.CharField(
        label=_("Who gets a seat"), required=False, max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}), help_text=PEOPLE_HELP,
    )  # fmt: skip

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        vendor = self.fields["vendor"]
        assert isinstance(department, forms.ModelChoiceField)
        assert isinstance(vendor, forms.ModelChoiceField)
        department.queryset = intake_departments(user).order_by("name")
        # The user's own department first (an employee has no other).
        own = Person.objects.filter(user=user).values_list("department_id", flat=True).first()
        if own is not None:
            department.initial = own
        elif len(choices := list(department.queryset[:2])) == 1:
            department.initial = choices[0].pk
        vendor.queryset = Vendor.objects.filter(archived_at__isnull=True).order_by("name")

    def clean_people(self) -> list[str]:
        return split_people(self.cleaned_data.get("people") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unit_price") is None and "unit_price" not in self.errors:
            self.add_error("unit_price", _("This field is required."))
        if not data.get("vendor") and not (data.get("vendor_name") or "").strip():
            if "vendor" not in self.errors and "vendor_name" not in self.errors:
                self.add_error("vendor_name", _("Choose a vendor or type the name of a new one."))
        return data
