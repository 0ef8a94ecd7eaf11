from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服专员")
    LEAD = "lead", _("部门负责人")
    MANAGER = "manager", _("经理")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    """A person using the app. The role decides what the server lets them do."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    # A department lead manages exactly this department's queue.
    department = models.ForeignKey(
        "issues.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )

    # For templates: each delegates to the one policy in accounts/permissions.py.
    @property
    def is_admin_role(self) -> bool:
        from .permissions import user_is_admin

        return user_is_admin(self)

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    def _can(self, action: str) -> bool:
        from .permissions import Action, user_can

        return user_can(self, Action(action))

    @property
    def can_file_tickets(self) -> bool:
        return self._can("file_tickets")

    @property
    def can_correct_tickets(self) -> bool:
        return self._can("correct_tickets")

    @property
    def can_see_unmasked(self) -> bool:
        return self._can("see_unmasked")

    @property
    def can_change_issues(self) -> bool:
        return self._can("change_issues")

    @property
    def can_manage_routing(self) -> bool:
        return self._can("manage_routing")
