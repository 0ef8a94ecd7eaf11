from rest_framework.routers import SimpleRouter

from .views import IssueViewSet, NotificationViewSet, RoutingRuleViewSet, SubThemeViewSet

app_name = "issues_api"

router = SimpleRouter()
router.register("issues", IssueViewSet, basename="issue")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("subthemes", SubThemeViewSet, basename="subtheme")
urlpatterns = router.urls
