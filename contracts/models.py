"""Contracts and their documents (issue 7). Imports org, renewals."""
