"""Who may do what with orders, returns and impact.

Everyone logged in reads the dashboard, the metrics and the impact report:
a fix that worked (or did not) is information for agents as much as for leads.
Orders and returns are written (upload page, API push) by managers and admins
only: they change every rate on the dashboard.
"""
from __future__ import annotations

from accounts.models import Role
from accounts.permissions import HasRole, RoleRequiredMixin, user_has_role

SALES_WRITERS = (Role.MANAGER,)  # admins always pass


def user_can_import_sales(user) -> bool:
    return user_has_role(user, *SALES_WRITERS)


class CanImportSalesMixin(RoleRequiredMixin):
    allowed_roles = SALES_WRITERS


class SalesPermission(HasRole):
    """API: read for everyone logged in, writes for managers and admins."""

    allowed_roles = SALES_WRITERS

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().has_permission(request, view)
