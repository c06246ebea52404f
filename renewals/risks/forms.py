"""Forms of the risk register: a manual risk, the editable part of a generated risk, a review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.filtersets import NOT_AVAILABLE
from core.widgets import DateInput
from org.models import Department, User
from org.roles import Role, has_role
from org.scoping import headed_departments
from renewals.risks.models import Risk, RiskCategory
from renewals.risks.policy import owner_choices

TEXT_LIMIT = 5000
LEVELS = [(str(v), format_lazy("{} · {}", v, label)) for v, label in Risk.Level.choices]
OPEN_STATUSES = [(v, label) for v, label in Risk.Status.choices if v != Risk.Status.CLOSED]


def _level(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=LEVELS, coerce=int)


class RiskForm(forms.Form):
    """A risk's editable fields. A generated risk shows only what its owner may change (its
    condition — category, title, description, department — stays as the rule set it, and it
    cannot be closed by hand). Fields not on the form are never read from the POST."""

    category = forms.ChoiceField(label=_("Category"), choices=RiskCategory.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False,
        empty_label=_("Whole company"),
    )  # fmt: skip
    likelihood = _level(_("Likelihood"))
    impact = _level(_("Impact"))
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody yet")
    )
    mitigation = forms.CharField(
        label=_("Mitigation"), required=False, max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    status = forms.ChoiceField(label=_("Status"), choices=Risk.Status.choices)
    next_review_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DateInput(),
    )
    note = forms.CharField(
        label=_("Note for the history"), required=False, max_length=1000,
        help_text=_("Why it changed; when closing, why it is closed."),
    )  # fmt: skip

    def __init__(self, *args: Any, user: User, risk: Risk | None = None, **kwargs: Any) -> None:
        if risk is not None:
            kwargs.setdefault(
                "initial",
                {
                    "category": risk.category, "title": risk.title,
                    "description": risk.description, "department": risk.department_id,
                    "likelihood": risk.likelihood, "impact": risk.impact,
                    "owner": risk.owner_id, "mitigation": risk.mitigation,
                    "status": risk.status, "next_review_on": risk.next_review_on,
                },
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.user, self.risk = user, risk
        if has_role(user, Role.IT_ADMIN, Role.FINANCE):
            departments = Department.objects.filter(is_active=True)
        else:
            departments = headed_departments(user)
            self.fields["department"].required = True
            self.fields["department"].empty_label = None  # type: ignore[attr-defined]
        self.fields["department"].queryset = departments.order_by("code")  # type: ignore[attr-defined]
        if risk is not None and risk.rule:
            for name in ("category", "title", "description", "department"):
                del self.fields[name]
            self.fields["status"].choices = OPEN_STATUSES  # type: ignore[attr-defined]
        # Owners: whoever may own a risk of the chosen (or the risk's) department; the current
        # owner stays choosable so saving other changes never fails on them.
        department = risk.department if risk is not None else None
        if self.is_bound and "department" in self.fields:
            department = self._bound_department(departments)
        allowed = Q(pk__in=owner_choices(department).values("pk"))
        if risk is not None and risk.owner_id:
            allowed |= Q(pk=risk.owner_id)
        owners = User.objects.filter(allowed).order_by("username")
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]

    def _bound_department(self, departments: Any) -> Department | None:
        value = self.data.get("department")
        if not value or not str(value).isdigit() or len(str(value)) > 12:
            return None
        return departments.filter(pk=int(value)).first()

    def changes(self) -> dict[str, Any]:
        """The cleaned values of the fields this form has (never ``rule``, ``key`` …)."""
        return {
            name: self.cleaned_data[name]
            for name in self.fields
            if name != "note" and name in self.cleaned_data
        }


class ReviewForm(forms.Form):
    """One risk in the review: confirm it as it is, or update ratings, status, mitigation."""

    action = forms.ChoiceField(
        choices=[("confirm", _("Confirm")), ("update", _("Update"))], widget=forms.HiddenInput
    )
    likelihood = _level(_("Likelihood"))
    impact = _level(_("Impact"))
    status = forms.ChoiceField(label=_("Status"), choices=Risk.Status.choices)
    mitigation = forms.CharField(
        label=_("Mitigation"), required=False, max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args: Any, risk: Risk, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "likelihood": risk.likelihood, "impact": risk.impact, "status": risk.status,
                "mitigation": risk.mitigation, "action": "update",
            },
        )  # fmt: skip
        kwargs.setdefault("prefix", f"r{risk.pk}")
        super().__init__(*args, **kwargs)
        self.risk = risk
        if risk.rule:
            self.fields["status"].choices = OPEN_STATUSES  # type: ignore[attr-defined]
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")
            field.widget.attrs.setdefault("aria-label", str(field.label or name))

    def full_clean(self) -> None:
        # Confirming needs no other field: only the action (and the note) are read.
        super().full_clean()
        if self.is_bound and self.cleaned_data.get("action") == "confirm":
            errors = getattr(self, "_errors", None) or {}
            for name in ("likelihood", "impact", "status", "mitigation"):
                errors.pop(name, None)
                self.cleaned_data.pop(name, None)

    def changes(self) -> dict[str, Any]:
        if self.cleaned_data.get("action") != "update":
            return {}
        return {
            name: self.cleaned_data[name]
            for name in ("likelihood", "impact", "status", "mitigation")
            if name in self.cleaned_data
        }


class RiskFilter(forms.Form):
    """The register's filters. Every choice list is built from what the user may see; any other
    value fails validation and the filter is ignored (with the error shown)."""

    category = forms.ChoiceField(label=_("Category"), required=False, choices=())
    status = forms.ChoiceField(label=_("Status"), required=False, choices=())
    department = forms.ChoiceField(
        label=_("Department"), required=False, choices=(), error_messages=NOT_AVAILABLE
    )
    owner = forms.ChoiceField(
        label=_("Owner"), required=False, choices=(), error_messages=NOT_AVAILABLE
    )
    due = forms.ChoiceField(label=_("Review"), required=False, choices=())
    source = forms.ChoiceField(label=_("Source"), required=False, choices=())

    def __init__(self, *args: Any, departments: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories")), *RiskCategory.choices]  # type: ignore[attr-defined]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            ("", _("Not closed")),
            *Risk.Status.choices,
            ("all", _("Any status")),
        ]
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("All departments")),
            *[(str(pk), name) for pk, name in departments],
        ]
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", _("Any owner")), ("none", _("Nobody yet")),
            *[(str(pk), name) for pk, name in owners],
        ]  # fmt: skip
        self.fields["due"].choices = [("", _("Any date")), ("yes", _("Due for review"))]  # type: ignore[attr-defined]
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            ("", _("Generated and manual")), ("generated", _("Generated from the data")),
            ("manual", _("Entered by hand")),
        ]  # fmt: skip
