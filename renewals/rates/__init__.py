"""Exchange rates: the table finance keeps (Manage → Exchange rates) and the rule that a rate a
quote or request records is locked. Models stay in renewals.models (CurrencyRate)."""
