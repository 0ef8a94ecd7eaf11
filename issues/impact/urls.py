from django.urls import path

from . import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="impact-dashboard"),
    path("trend.csv", views.TrendCsvView.as_view(), name="impact-trend-csv"),
    path("fixes.csv", views.FixesCsvView.as_view(), name="impact-fixes-csv"),
    path("issues.csv", views.IssuesCsvView.as_view(), name="impact-issues-csv"),
    path("sales/import/", views.SalesImportView.as_view(), name="impact-sales-import"),
    path("sales/import/<int:pk>/", views.SalesImportDetailView.as_view(), name="impact-sales-import-detail"),
    path("sales/import/<int:pk>/progress/", views.SalesImportProgressView.as_view(), name="impact-sales-import-progress"),
    path("sales/import/<int:pk>/errors.csv", views.SalesImportErrorsView.as_view(), name="impact-sales-import-errors"),
]
