"""Pages of the issue library (the REST API is in issues/api/urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("issues/", views.IssueLibraryView.as_view(), name="issue-library"),
    path("issues/<int:pk>/", views.IssueDetailView.as_view(), name="issue-detail"),
    path("issues/<int:pk>/<slug:action>/", views.IssueActionView.as_view(), name="issue-action"),
    path("issues/report/", views.DailyReportView.as_view(), name="daily-report"),
    path("issues/report.<str:export>", views.DailyReportDownloadView.as_view(), name="daily-report-download"),
    path("issues/candidates/", views.CandidateListView.as_view(), name="subtheme-candidates"),
    path("issues/candidates/<int:pk>/<slug:decision>/", views.CandidateDecisionView.as_view(),
         name="subtheme-candidate-decide"),
    path("queue/", views.DepartmentQueueView.as_view(), name="department-queue"),
    path("queue/<slug:code>/", views.DepartmentQueueView.as_view(), name="department-queue"),
    path("queue/<slug:code>/team/", views.DepartmentTeamView.as_view(), name="department-team"),
    path("queue/<slug:code>/bulk/", views.DepartmentQueueBulkView.as_view(), name="department-queue-bulk"),
    path("routing/", views.RoutingRuleListView.as_view(), name="routing-rules"),
    path("routing/new/", views.RoutingRuleFormView.as_view(), name="routing-rule-create"),
    path("routing/<int:pk>/", views.RoutingRuleFormView.as_view(), name="routing-rule-edit"),
    path("routing/<int:pk>/delete/", views.RoutingRuleDeleteView.as_view(), name="routing-rule-delete"),
    path("routing/reroute/", views.RoutingRerouteView.as_view(), name="routing-reroute"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notifications-read"),
]
