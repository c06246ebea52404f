"""Every write of a renewal request up to its approval: open, change, quote, submit, decide, cancel
(recording the executed renewal is renewals.execution, above the alerts it stops).

- ``drafting``: open a request, change what it proposes, its quotes and assessments, cancel it;
- ``deciding``: submit (freeze the amount, create the tier's steps), decide the steps;
- ``pricing``: a quote's rate from the rates table and the conversions of prices;
- ``common``: the row lock, the history and the notices every write shares;
- ``tiers``: finance's approval tiers; ``notices``: who is told what (a django-q2 task).
Who may do what is read-only and lives in renewals.requests.policy.

Races are closed in the database: each action locks the request row (SELECT … FOR UPDATE) and
re-reads its state under the lock, so a second click, a racing approver or a retried call sees
the first one's result and is told "already decided". The final approval commits the budget in
the same transaction as the status change (budgets.services lock the budget row, so two requests
cannot both take the last money). Notices go out from django-q2
tasks queued on commit: a failed e-mail never undoes a decision, a rolled-back decision sends
nothing.

The names below are the request writes callers use (views, the API, bulk actions, tasks, the
demo): ``from renewals.requests import services`` then ``services.step_decide(...)``. The modules
of this package import one another directly, never through here.
"""

from renewals.requests.services.deciding import DecisionRefused, request_submit, step_decide
from renewals.requests.services.drafting import (
    EDITABLE_FIELDS,
    QUOTE_FIELDS,
    assessment_add,
    quote_choose,
    quote_delete,
    quote_save,
    request_cancel,
    request_create,
    request_update,
)
from renewals.requests.services.pricing import RATE_FIELDS, quote_rate

__all__ = [
    "EDITABLE_FIELDS",
    "QUOTE_FIELDS",
    "RATE_FIELDS",
    "DecisionRefused",
    "assessment_add",
    "quote_choose",
    "quote_delete",
    "quote_rate",
    "quote_save",
    "request_cancel",
    "request_create",
    "request_submit",
    "request_update",
    "step_decide",
]
