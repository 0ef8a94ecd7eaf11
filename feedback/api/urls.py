from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CategoryViewSet, ProductViewSet, TicketViewSet, TokenView

app_name = "feedback_api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")

urlpatterns = [
    # The one API endpoint open to anonymous callers: it exchanges a username and password for a token.
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
