"""Who may do what with orders, returns and impact (the rule is Action.IMPORT_SALES in accounts/permissions.py).

Everyone logged in reads the dashboard, the metrics and the impact report:
a fix that worked (or did not) is information for agents as much as for leads.
Orders and returns are written (upload page, API push) by managers and admins
only: they change every rate on the dashboard.
"""
from __future__ import annotations

from accounts.permissions import Action, ActionPermission, ActionRequiredMixin, user_can


def user_can_import_sales(user) -> bool:
    return user_can(user, Action.IMPORT_SALES)


class CanImportSalesMixin(ActionRequiredMixin):
    required_action = Action.IMPORT_SALES


class SalesPermission(ActionPermission):
    """API: read for everyone logged in, writes for managers and admins."""

    action = Action.IMPORT_SALES
    read_open = True
