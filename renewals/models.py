"""Inventory, usage, renewal requests, approvals and alerts (issues 3, 4, 6). Imports org, budgets."""
