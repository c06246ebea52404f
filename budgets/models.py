"""Budgets and the append-only ledger (issue 5). Imports org only."""
