from django.urls import path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("tickets/", views.TicketListView.as_view(), name="ticket-list"),
    path("tickets/views/", views.SavedViewCreateView.as_view(), name="saved-view-create"),
    path("tickets/views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="saved-view-delete"),
    path("tickets/new/", views.TicketCreateView.as_view(), name="ticket-create"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:pk>/live/", views.TicketLiveView.as_view(), name="ticket-live"),
    path("tickets/<int:pk>/presence/", views.TicketPresenceView.as_view(), name="ticket-presence"),
    path("live/counts/", views.LiveCountsView.as_view(), name="live-counts"),
    path("tickets/<int:pk>/confirm/", views.TicketConfirmView.as_view(), name="ticket-confirm"),
    path("tickets/<int:pk>/also/", views.TicketAlsoView.as_view(), name="ticket-also"),
    path("review/", views.ReviewStreamView.as_view(), name="review-stream"),
    path("review/tickets/", views.ReviewTicketsView.as_view(), name="review-tickets"),
    path("review/tickets/<int:pk>/confirm/", views.ReviewConfirmView.as_view(), name="review-confirm"),
    path("review/tickets/<int:pk>/undo/", views.ReviewUndoView.as_view(), name="review-undo"),
    path("review/tickets/<int:pk>/also/", views.ReviewAlsoView.as_view(), name="review-also"),
    path("review/selected/", views.ReviewSelectedView.as_view(), name="review-selected"),
    path("review/bulk/", views.ReviewBulkView.as_view(), name="review-bulk"),
    path("models/", views.ModelPageView.as_view(), name="model-page"),
    path("models/training/", views.ModelTrainingProgressView.as_view(), name="model-training-progress"),
    path("products/search/", views.ProductSearchView.as_view(), name="product-search"),
]
