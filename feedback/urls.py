from django.urls import path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("tickets/", views.TicketListView.as_view(), name="ticket-list"),
    path("tickets/new/", views.TicketCreateView.as_view(), name="ticket-create"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:pk>/confirm/", views.TicketConfirmView.as_view(), name="ticket-confirm"),
    path("models/", views.ModelPageView.as_view(), name="model-page"),
    path("products/search/", views.ProductSearchView.as_view(), name="product-search"),
]
