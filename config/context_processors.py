from __future__ import annotations

from django.http import HttpRequest

from config.navigation import items_for


def has_seats(user: object) -> bool:
    from renewals.pages.selectors import has_seats as holds_seats

    return holds_seats(user)


def navigation(request: HttpRequest) -> dict[str, object]:
    """The menu entries the current user may open, and which one is current.

    Computed once per request: a table whose cells are templates renders with the request's
    context once per row, and must not count the unread notifications fifty times."""
    cached: dict[str, object] | None = getattr(request, "_navigation_context", None)
    if cached is not None:
        return cached
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else None
    unread = 0
    if request.user.is_authenticated:
        from renewals.notify.models import Notification

        unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    items = items_for(request.user)
    cached = {
        "nav_items": items,
        "nav_reports": [item for item in items if item.reports],
        "nav_manage": [item for item in items if item.manage],
        # Keys of the menu pages this user may open: a link to one elsewhere on a page is shown
        # only when it is here ({% if "approvals" in nav_may %}), so no link leads to a 403.
        "nav_may": frozenset(item.key for item in items),
        "nav_current": current,
        "unread_notifications": unread,
        # The user menu's "My software" (asked only when the menu is drawn).
        "nav_has_seats": lambda: has_seats(request.user),
    }
    request._navigation_context = cached  # type: ignore[attr-defined]
    return cached
