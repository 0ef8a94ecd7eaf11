"""Models of the issue library, split by idea and re-exported here."""
from .department import Department
from .issue import (
    ALL_PRODUCTS_ZH,
    DONE_STATUSES,
    OPEN_STATUSES,
    UNACKNOWLEDGED_STATUSES,
    ActivityVerb,
    DepartmentSource,
    Issue,
    IssueActivity,
    IssueDaily,
    IssueStatus,
    Priority,
    ScopeType,
    TRANSITIONS,
)
from .notification import DeliveryChannel, DeliveryStatus, Notification, NotificationDelivery, NotificationKind
from .routing import RerouteState, RoutingRule
from .subtheme import SubTheme, SubThemeStatus

__all__ = [
    "ALL_PRODUCTS_ZH",
    "ActivityVerb",
    "DONE_STATUSES",
    "DeliveryChannel",
    "DeliveryStatus",
    "Department",
    "DepartmentSource",
    "Issue",
    "IssueActivity",
    "IssueDaily",
    "IssueStatus",
    "Notification",
    "NotificationDelivery",
    "NotificationKind",
    "OPEN_STATUSES",
    "Priority",
    "RerouteState",
    "RoutingRule",
    "ScopeType",
    "SubTheme",
    "SubThemeStatus",
    "TRANSITIONS",
    "UNACKNOWLEDGED_STATUSES",
]
