from django.urls import path

from .views import TicketBatchCreate, TicketCreate

urlpatterns = [
    path("api/tickets/", TicketCreate.as_view()),
    path("api/tickets/batch/", TicketBatchCreate.as_view()),
]
