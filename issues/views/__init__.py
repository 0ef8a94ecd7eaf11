"""Pages of the issue library: thin views that validate input, call one service or selector, and render.

Split by page; the URL configuration imports the views from here.
"""
from .candidates import CandidateDecisionView, CandidateListView
from .detail import IssueActionView, IssueDetailView
from .library import IssueLibraryView
from .notifications import NotificationListView, NotificationReadView
from .queue import DepartmentQueueBulkView, DepartmentQueueView
from .report import DailyReportDownloadView, DailyReportView
from .team import DepartmentTeamView
from .routing import (
    RoutingRerouteView,
    RoutingRuleDeleteView,
    RoutingRuleFormView,
    RoutingRuleListView,
)

__all__ = [
    "CandidateDecisionView",
    "CandidateListView",
    "DailyReportDownloadView",
    "DailyReportView",
    "DepartmentQueueBulkView",
    "DepartmentQueueView",
    "DepartmentTeamView",
    "IssueActionView",
    "IssueDetailView",
    "IssueLibraryView",
    "NotificationListView",
    "NotificationReadView",
    "RoutingRerouteView",
    "RoutingRuleDeleteView",
    "RoutingRuleFormView",
    "RoutingRuleListView",
]
