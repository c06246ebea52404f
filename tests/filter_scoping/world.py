"""The roles walked and the objects of departments A and B they may or may not see."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Model

ROLES = ["it_admin", "finance", "auditor", "head_a", "head_b", "software_admin", "employee"]
SEE_ALL = {"it_admin", "finance", "auditor"}
OF_A = {"head_a", "software_admin"}


@dataclass
class World:
    """Objects of department A (with its sub-department) and of department B, by model."""

    a: dict[type[Model], set[int]] = field(default_factory=dict)
    b: dict[type[Model], set[int]] = field(default_factory=dict)

    def add(self, side: str, *objects: Model) -> None:
        for obj in objects:
            getattr(self, side).setdefault(type(obj), set()).add(obj.pk)

    def own(self, role: str, model: type[Model]) -> set[int]:
        """Objects the role may see (a sample for see-all roles: A's and B's)."""
        if role in SEE_ALL:
            return self.a.get(model, set()) | self.b.get(model, set())
        if role in OF_A:
            return self.a.get(model, set())
        return self.b.get(model, set()) if role == "head_b" else set()

    def forbidden(self, role: str, model: type[Model]) -> set[int]:
        """Objects the role may not see."""
        if role in SEE_ALL:
            return set()
        both = self.a.get(model, set()) | self.b.get(model, set())
        return both - self.own(role, model)
