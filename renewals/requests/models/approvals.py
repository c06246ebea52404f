"""Approval policy (tiers by amount) and the steps of each request's approval."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DecimalRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

from core.audit import audited
from org.roles import Role

# The roles a tier may ask to approve, in the order they sign.
APPROVER_ROLES = [
    (Role.DEPARTMENT_HEAD.value, Role.DEPARTMENT_HEAD.label),
    (Role.FINANCE.value, Role.FINANCE.label),
    (Role.IT_ADMIN.value, Role.IT_ADMIN.label),
    (Role.LEGAL.value, Role.LEGAL.label),
]


class AmountRange(Func):
    """[min_amount, max_amount) as a PostgreSQL numrange (an empty max is unbounded)."""

    function = "numrange"
    output_field = DecimalRangeField()


@audited()
class ApprovalTier(models.Model):
    """Requests whose amount in the base currency is in [min_amount, max_amount) are approved by
    ``roles``, one after another in that order."""

    name = models.CharField(_("name"), max_length=80)
    min_amount = models.DecimalField(
        _("from (inclusive)"), max_digits=14, decimal_places=2, default=Decimal(0)
    )
    max_amount = models.DecimalField(
        _("up to (exclusive)"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("Empty: no upper limit."),
    )  # fmt: skip
    roles = ArrayField(
        models.CharField(max_length=20, choices=APPROVER_ROLES),
        verbose_name=_("approvers, in order"),
        size=5,
    )
    # Rules that add a legal review step (renewals/requests/legal.py), unless "legal" is one of
    # the tier's own approvers.
    legal_if_flagged = models.BooleanField(
        _("legal review when the contract has flagged clauses"), default=False
    )
    legal_if_auto_renews = models.BooleanField(
        _("legal review when the contract auto-renews"), default=False
    )
    legal_above = models.DecimalField(
        _("legal review from this amount"), max_digits=14, decimal_places=2, null=True,
        blank=True, help_text=_("In the base currency; empty: no amount rule."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("approval tier")
        verbose_name_plural = _("approval tiers")
        ordering = ["min_amount"]
        constraints = [
            models.CheckConstraint(
                name="tier_range_valid",
                condition=Q(min_amount__gte=0)
                & (Q(max_amount__isnull=True) | Q(max_amount__gt=F("min_amount"))),
                violation_error_message=_(
                    "A tier starts at 0 or more and ends above where it starts."
                ),
            ),
            models.CheckConstraint(
                name="tier_has_approvers",
                condition=Q(roles__len__gte=1),
                violation_error_message=_("A tier needs at least one approver."),
            ),
            # Two tiers never cover the same amount, so an amount picks at most one tier.
            ExclusionConstraint(
                name="tier_ranges_do_not_overlap",
                expressions=[
                    (
                        AmountRange(F("min_amount"), F("max_amount"), Value("[)")),
                        RangeOperators.OVERLAPS,
                    )
                ],
                violation_error_message=_("The amount range overlaps another tier."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def role_labels(self) -> list[str]:
        labels = dict(APPROVER_ROLES)
        return [str(labels.get(role, role)) for role in self.roles]

    def legal_rules(self) -> list[str]:
        """The tier's legal-review rules in words (the tiers page)."""
        rules = []
        if self.legal_if_flagged:
            rules.append(str(_("the contract has flagged clauses")))
        if self.legal_if_auto_renews:
            rules.append(str(_("the contract auto-renews")))
        if self.legal_above is not None:
            rules.append(
                str(
                    _("the amount is %(amount)s CNY or more")
                    % {"amount": f"{self.legal_above:,.2f}"}
                )
            )
        return rules


class Via(models.TextChoices):
    """Where a decision was taken (the web page and the API leave it empty)."""

    WEB = "", _("on the web")
    FEISHU = "feishu", _("via Feishu")
    DINGTALK = "dingtalk", _("via DingTalk")
    WECOM = "wecom", _("via WeCom")


@audited()
class ApprovalStep(models.Model):
    """One approver role's decision on one round of a request.

    Only the first undecided step of the current round is ``pending``; those after it wait.
    A change to the amount or the chosen quote supersedes the round and starts a new one.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PENDING = "pending", _("Awaiting decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned for changes")
        SUPERSEDED = "superseded", _("No longer counts (request changed)")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        RETURN = "return", _("Return for changes")

    request = models.ForeignKey(
        "renewals.RenewalRequest", verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="steps",
    )  # fmt: skip
    round = models.PositiveSmallIntegerField(_("round"))
    position = models.PositiveSmallIntegerField(_("order"))
    role = models.CharField(_("approver role"), max_length=20, choices=APPROVER_ROLES)
    # Added because the amount does not fit the budget (finance must approve it explicitly).
    over_budget = models.BooleanField(_("added: over budget"), default=False)
    # Added by the tier's legal-review rules (the contract's clauses, auto-renewal, the amount).
    legal_review = models.BooleanField(_("added: legal review"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.WAITING
    )
    # When the step started to wait for its decision: the inbox shows the longest waiting first.
    pending_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="approval_decisions",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # A decision taken on a chat card says so in the trail.
    via = models.CharField(
        _("decided where"), max_length=10, choices=Via.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["request", "round", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "position"], name="step_unique_position"
            ),
            # At most one step of a request awaits a decision at any time.
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="pending"), name="step_one_pending"
            ),
            models.CheckConstraint(
                name="step_decided_has_decider",
                condition=Q(status__in=["waiting", "pending", "superseded"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                violation_error_message=_("A decision records who decided and when."),
            ),
        ]
        indexes = [
            # The "awaiting my approval" inbox reads pending steps by role, longest waiting first.
            models.Index(
                fields=["role", "pending_since"],
                condition=Q(status="pending"),
                name="step_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} r{self.round} #{self.position} {self.role}: {self.status}"
