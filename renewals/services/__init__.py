"""Every write that matters in the renewals app goes through a function in this package."""
