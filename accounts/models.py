from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服专员")
    LEAD = "lead", _("部门负责人")
    MANAGER = "manager", _("经理")
    ADMIN = "admin", _("管理员")


def _allowed(action: str) -> property:
    """A read-only property for templates that asks the one policy (accounts/permissions.py)."""

    def allowed(user) -> bool:
        from .permissions import Action, user_can

        return user_can(user, Action(action))

    return property(allowed)


class User(AbstractUser):
    """A person using the app. The role decides what the server lets them do."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    # A department lead manages exactly this department's queue.
    department = models.ForeignKey(
        "issues.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # The language of the emails sent to this person: the language switch in the top bar sets it
    # (accounts.services.user_language_set), so it is the last language they chose to read the app in.
    language = models.CharField(_("语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    # For templates: each delegates to the one policy in accounts/permissions.py.
    @property
    def is_admin_role(self) -> bool:
        from .permissions import user_is_admin

        return user_is_admin(self)

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    can_file_tickets = _allowed("file_tickets")
    can_correct_tickets = _allowed("correct_tickets")
    can_see_unmasked = _allowed("see_unmasked")
    can_change_issues = _allowed("change_issues")
    can_manage_routing = _allowed("manage_routing")
    can_work_assigned_issues = _allowed("work_assigned_issues")
    can_view_models = _allowed("view_models")
