"""Users, departments and the employee directory."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited


@audited(exclude=["last_login"], secrets={"password": Secret.OMIT})
class User(AbstractUser):
    """A person who signs in. Roles are groups (see org.roles); scope comes from departments."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Language of the interface and of e-mails sent to this user."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or super().get_full_name() or self.username

    def get_full_name(self) -> str:
        """The name people are told about (notices, e-mails): the display name, else first and
        last name, else the directory entry's name; the username only when there is no name."""
        if self.display_name:
            return self.display_name
        full = super().get_full_name()
        if full:
            return full
        person = Person.objects.filter(user_id=self.pk).only("name").first() if self.pk else None
        return person.name if person and person.name else self.username

    def get_short_name(self) -> str:
        return self.display_name or super().get_short_name() or self.username


@audited()
class Department(models.Model):
    """An organisational unit; may sit under a parent. Heads and software admins are scoped to it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(
        _("code"), max_length=30, unique=True, help_text=_("Short unique code, e.g. RD or FIN.")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    heads = models.ManyToManyField(
        User, verbose_name=_("department heads"), blank=True, related_name="headed_departments"
    )
    software_admins = models.ManyToManyField(
        User,
        verbose_name=_("software admins"),
        blank=True,
        related_name="administered_departments",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="department_not_own_parent",
                condition=~Q(parent=F("pk")),
                violation_error_message=_("A department cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("org:department-detail", args=[self.pk])

    def clean(self) -> None:
        # The check constraint stops the one-step loop; longer loops are refused here.
        ancestor = self.parent
        seen: set[int] = set()
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A department cannot sit under one of its own sub-departments.")}
                )
            if ancestor.pk in seen:
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


@audited()
class Person(models.Model):
    """An employee in the HR directory; holds seats whether or not they ever sign in."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")

    employee_no = models.CharField(_("employee no."), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="people"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    # From a directory source (integrations/directory): a mobile number and the line manager.
    mobile = models.CharField(_("mobile"), max_length=30, blank=True, default="", db_default="")
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["employee_no"]
        constraints = [
            models.CheckConstraint(
                name="person_left_on_matches_status",
                condition=(
                    Q(status="left", left_on__isnull=False)
                    | Q(status="active", left_on__isnull=True)
                ),
                violation_error_message=_(
                    "A person who left needs a leaving date; an active person has none."
                ),
            ),
        ]
        indexes = [
            # The directory page and the leaver checks filter by department and status.
            models.Index(fields=["department", "status"], name="person_dept_status_idx"),
            # A directory sync looks people up by e-mail whatever its case (conflicts between
            # sources; signing users in by e-mail).
            models.Index(Lower("email"), name="person_email_lower_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    @property
    def has_left(self) -> bool:
        return self.status == self.Status.LEFT


# Who holds which role, and who heads or administers which department, are tracked as well: the
# many-to-many tables behind them get event tables of their own.
audited(app_label="org", model_name="UserRoleEvent")(User.groups.through)
audited(app_label="org", model_name="DepartmentHeadEvent")(Department.heads.through)
audited(app_label="org", model_name="DepartmentAdminEvent")(Department.software_admins.through)
