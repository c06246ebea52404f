from __future__ import annotations

from django.http import HttpRequest

from config.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, object]:
    """The menu entries the current user may open, and which one is current."""
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else None
    return {"nav_items": items_for(request.user), "nav_current": current}
