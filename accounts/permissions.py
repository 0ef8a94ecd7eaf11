"""Role checks shared by pages and the API, so both enforce the same rules."""
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .models import Role


def user_has_role(user, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.role == Role.ADMIN or user.role in roles


class RoleRequiredMixin(LoginRequiredMixin):
    """Page mixin: log in first, then one of ``allowed_roles`` (admins always pass)."""

    allowed_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.allowed_roles and not user_has_role(request.user, *self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class HasRole(BasePermission):
    """API permission: subclass and set ``allowed_roles``."""

    allowed_roles: tuple[str, ...] = ()

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, *self.allowed_roles)


class CanFileTickets(HasRole):
    allowed_roles = (Role.AGENT, Role.LEAD, Role.MANAGER)


class CanCorrectTickets(HasRole):
    allowed_roles = (Role.AGENT, Role.LEAD)


class IsAdminRole(HasRole):
    allowed_roles = ()
