"""Single sign-on with OpenID Connect (optional, see README): who a signed-in SSO user is here."""

from __future__ import annotations

from typing import Any

from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from org.models import User
from org.services import people_link_users, person_candidates


class OIDCBackend(OIDCAuthenticationBackend):
    """Match users by e-mail (case-insensitive); create unknown ones without any role, so the
    identity provider never grants access to data by itself: an IT admin assigns roles."""

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        email = (claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims: dict[str, Any]) -> User:
        email = claims["email"].strip()
        username = (claims.get("preferred_username") or email).strip()[:150]
        if User.objects.filter(username=username).exists():
            username = email[:150]
        user = User.objects.create_user(username=username, email=email)
        user.display_name = (claims.get("name") or "")[:150]
        user.save(update_fields=["display_name"])
        # The directory's person with this e-mail (or employee number as user name) is theirs,
        # when that is unambiguous: "My software" shows their seats from the first sign-in.
        people_link_users(person_ids=person_candidates(user))
        return user
