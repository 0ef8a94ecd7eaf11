from django.urls import path

from . import views

urlpatterns = [
    path("sales/", views.SalesListCreateView.as_view(), name="api-sales"),
    path("impacts/", views.ImpactListView.as_view(), name="api-impacts"),
]
