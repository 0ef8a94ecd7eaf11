from django.urls import path

from . import views

urlpatterns = [
    path("", views.ImportListView.as_view(), name="import-list"),
    path("new/", views.ImportCreateView.as_view(), name="import-create"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("<int:pk>/progress/", views.ImportProgressView.as_view(), name="import-progress"),
    path("<int:pk>/errors.csv", views.ImportErrorReportView.as_view(), name="import-errors"),
    path("products/", views.ProductImportView.as_view(), name="product-import"),
    path("wizard/", views.ImportWizardStartView.as_view(), name="import-wizard"),
    path("wizard/<str:token>/", views.ImportWizardMapView.as_view(), name="import-wizard-map"),
]
