"""Executing an approved renewal: the loop's step after the approval. It composes the features
below it explicitly, in one transaction: the request (requests), the subscription's roll-over
(inventory), the old term's pending alerts stopped (alerts) and the actual booked (budgets)."""
