"""The inventory's forms: vendors, modules and subscriptions (one module each)."""
