"""REST API of the issue library.

Reads are open to everyone logged in; changes follow ``issue_can_change`` (a
lead changes only their own department's issues, admins any; agents and
managers read only), exactly as on the pages, because both call the services.
"""
from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import CanManageRouting
from issues import selectors, services
from issues.models import Department, Issue, Notification, RoutingRule, SubTheme
from issues.permissions import IssuePermission

from .serializers import (
    ActivitySerializer,
    AssignSerializer,
    BulkTransitionResultSerializer,
    BulkTransitionSerializer,
    CommentSerializer,
    DailyReportSerializer,
    DepartmentQuerySerializer,
    IssueDetailSerializer,
    IssueListQuerySerializer,
    IssueSerializer,
    MergeSerializer,
    NotificationQuerySerializer,
    NotificationReadResultSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    PreviewQuerySerializer,
    PrioritySerializer,
    ReportQuerySerializer,
    RoutingRuleSerializer,
    RulePreviewSerializer,
    SubThemeMergeSerializer,
    SubThemeQuerySerializer,
    SubThemePromoteSerializer,
    SubThemeSerializer,
    TransitionSerializer,
)


def _query(serializer_class, request):
    """Validate query parameters with a serializer: a bad one is a 400 naming it."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data



class IssuePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _service_call(function, **kwargs):
    try:
        return function(**kwargs)
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error) or None) from error
    except services.IssueActionError as error:
        raise ValidationError(error.errors) from error


class IssueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Issues of the high-frequency library: list/filter, retrieve with the daily series, and the lead's actions."""

    permission_classes = [IsAuthenticated, IssuePermission]
    pagination_class = IssuePagination
    serializer_class = IssueSerializer
    # Anything but a number is not an issue: the URL does not match, a JSON 404 (config/errors.py).
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Issue.objects.none()
        return selectors.issue_list(filters=_query(IssueListQuerySerializer, self.request), user=self.request.user)

    @extend_schema(parameters=[IssueListQuerySerializer])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        sparklines = selectors.issue_sparklines(issue_ids=[issue.pk for issue in page])
        serializer = IssueSerializer(page, many=True, context={"request": request, "sparklines": sparklines})
        return self.get_paginated_response(serializer.data)

    def _issue(self) -> Issue:
        issue = Issue.objects.select_related("department", "category").filter(pk=self.kwargs["pk"]).first()
        if issue is None:
            raise NotFound
        self.check_object_permissions(self.request, issue)
        return issue

    def _detail_response(self, issue_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        detail = selectors.issue_detail(issue_id=issue_id, ticket_limit=0)
        serializer = IssueDetailSerializer(
            detail.issue,
            context={"request": self.request, "series": detail.series, "subthemes": detail.subthemes,
                     "sparklines": {detail.issue.pk: [p["count"] for p in detail.series[-30:]]}},
        )
        return Response(serializer.data, status=status_code)

    @extend_schema(responses=IssueDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        try:
            return self._detail_response(int(kwargs["pk"]))
        except (Issue.DoesNotExist, ValueError):
            raise NotFound from None

    @extend_schema(request=TransitionSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Change the status; resolving requires `action_taken` and `action_date`."""
        issue = self._issue()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        _service_call(services.issue_transition, issue=issue, to_status=values["status"], actor=request.user,
                      note=values["note"], action_taken=values["action_taken"], action_date=values["action_date"])
        return self._detail_response(issue.pk)

    @extend_schema(request=AssignSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign the issue to a user (username or id), or unassign with null."""
        issue = self._issue()
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reference = data.validated_data["assignee"]
        assignee = None
        if reference not in (None, ""):
            users = get_user_model().objects
            by_id = re.fullmatch(r"[0-9]{1,18}", str(reference))  # not str.isdigit: "²" is a digit int() refuses
            assignee = (users.filter(pk=int(reference)) if by_id else users.filter(username=reference)).first()
            if assignee is None:
                raise ValidationError({"assignee": gettext("未知用户")})
        _service_call(services.issue_assign, issue=issue, assignee=assignee, actor=request.user,
                      note=data.validated_data["note"])
        return self._detail_response(issue.pk)

    @extend_schema(request=PrioritySerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request, pk=None):
        issue = self._issue()
        data = PrioritySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _service_call(services.issue_priority_set, issue=issue, priority=data.validated_data["priority"],
                      actor=request.user, note=data.validated_data["note"])
        return self._detail_response(issue.pk)

    @extend_schema(request=MergeSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this issue into another; its tickets move there."""
        issue = self._issue()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        into = Issue.objects.filter(pk=data.validated_data["into"]).first()
        if into is None:
            raise ValidationError({"into": gettext("未知问题")})
        merged = _service_call(services.issue_merge, issue=issue, into=into, actor=request.user,
                               note=data.validated_data["note"])
        return self._detail_response(merged.pk)

    @extend_schema(request=CommentSerializer, responses=ActivitySerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        issue = self._issue()
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _service_call(services.issue_comment, issue=issue, actor=request.user, note=data.validated_data["note"])
        return Response(ActivitySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ActivitySerializer(many=True))
    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        issue = self._issue()
        entries = issue.activities.select_related("actor").order_by("-created_at", "-id")[:500]
        return Response(ActivitySerializer(entries, many=True).data)

    @extend_schema(request=BulkTransitionSerializer, responses=BulkTransitionResultSerializer)
    @action(detail=False, methods=["post"])
    def bulk_status(self, request):
        """Apply one status change to many issues; refused ones are listed with the reason."""
        data = BulkTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        changed, refused = services.issues_bulk_transition(
            issue_ids=values["ids"], to_status=values["status"], actor=request.user, note=values["note"],
            action_taken=values["action_taken"], action_date=values["action_date"])
        return Response({"changed": changed, "refused": {str(k): v for k, v in refused.items()}})

    @extend_schema(parameters=[DepartmentQuerySerializer], responses=IssueSerializer(many=True))
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """A department's open issues, spiking and overdue first."""
        code = _query(DepartmentQuerySerializer, request).get("department")
        department = (
            Department.objects.filter(code=code).first() if code else
            Department.objects.filter(pk=request.user.department_id).first()
        )
        if department is None:
            raise ValidationError({"department": gettext("请指定部门")})
        page = self.paginate_queryset(selectors.department_queue(department=department))
        sparklines = selectors.issue_sparklines(issue_ids=[issue.pk for issue in page])
        return self.get_paginated_response(
            IssueSerializer(page, many=True, context={"request": request, "sparklines": sparklines}).data
        )

    @extend_schema(parameters=[ReportQuerySerializer], responses={
        (200, "application/json"): DailyReportSerializer,
        (200, "text/csv"): OpenApiTypes.BINARY,
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
    })
    @action(detail=False, methods=["get"])
    def report(self, request):
        """The daily high-frequency issue report, as JSON or as a CSV/XLSX download."""
        from issues.exports import report_csv, report_xlsx

        query = _query(ReportQuerySerializer, request)
        report = selectors.daily_report(day=query.get("day"))
        export = query.get("export")
        if export in ("csv", "xlsx"):
            content, mime = (
                (report_csv(report), "text/csv; charset=utf-8") if export == "csv"
                else (report_xlsx(report), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            )
            response = HttpResponse(content, content_type=mime)
            response["Content-Disposition"] = f'attachment; filename="issues-{report.day.isoformat()}.{export}"'
            return response

        def rows(entries):
            return [
                {"issue": IssueSerializer(r.issue).data, "count": r.count, "baseline": r.baseline, "growth": r.growth}
                for r in entries
            ]

        return Response({
            "day": report.day, "tickets": report.tickets,
            "top_by_volume": rows(report.top_by_volume), "top_by_growth": rows(report.top_by_growth),
            "new": rows(report.new), "spiking": rows(report.spiking),
            "resolved": IssueSerializer(report.resolved, many=True).data,
        })


class RoutingRuleViewSet(viewsets.ModelViewSet):
    """Routing rules (admins only). Saving or deleting one re-routes open issues in the background."""

    serializer_class = RoutingRuleSerializer
    permission_classes = [IsAuthenticated, CanManageRouting]
    queryset = RoutingRule.objects.select_related("category", "department").order_by("order", "id")
    lookup_value_regex = r"[0-9]{1,18}"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_moves", False)
        rule = RoutingRule(**data)
        serializer.instance = _rule_save(rule=rule, actor=self.request.user, confirm_moves=confirm)

    def perform_update(self, serializer):
        rule = serializer.instance
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_moves", False)
        for name, value in data.items():
            setattr(rule, name, value)
        _rule_save(rule=rule, actor=self.request.user, confirm_moves=confirm)

    def perform_destroy(self, instance):
        services.routing_rule_delete(rule=instance)

    @extend_schema(parameters=[PreviewQuerySerializer], request=RoutingRuleSerializer, responses=RulePreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Show the recent tickets an (unsaved) rule would match: count, sample, and matches earlier rules take."""
        days = _query(PreviewQuerySerializer, request)["days"]
        data = RoutingRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "confirm_moves"}
        result = services.routing_rule_preview(rule=RoutingRule(**fields), days=days)
        codes = dict(Department.objects.values_list("pk", "code"))
        return Response({
            "count": result["count"], "shadowed": result["shadowed"], "issues": result["issues"], "days": days,
            "tickets": [
                {"id": t.pk, "text": t.text[:200], "category": t.category.code if t.category_id else None,
                 "sku": t.sku_raw, "channel": t.channel, "received_at": t.received_at}
                for t in result["tickets"]
            ],
            "moves": [
                {"issue": m["issue"].pk, "title": m["issue"].title, "status": m["issue"].status,
                 "assignee": m["issue"].assignee.get_username() if m["issue"].assignee_id else None,
                 "from_department": codes.get(m["from_id"]), "to_department": codes.get(m["to_id"]),
                 "taken": m["taken"], "target_has_lead": m["target_has_lead"]}
                for m in result["moves"]
            ],
        })


def _rule_save(*, rule: RoutingRule, actor, confirm_moves: bool) -> RoutingRule:
    """Save through the service; a needed confirmation is a 400 naming the field to send."""
    from rest_framework.exceptions import ValidationError as DRFValidationError

    from ..services.routing import RoutingConfirmationNeeded

    try:
        return services.routing_rule_save(rule=rule, actor=actor, confirm_moves=confirm_moves)
    except RoutingConfirmationNeeded as error:
        raise DRFValidationError({"confirm_moves": error.messages}) from error


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your in-app notifications (and your department's, if you lead it)."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a user
            return Notification.objects.none()
        notifications = services.notifications_for_user(self.request.user)
        if _query(NotificationQuerySerializer, self.request).get("unread") in ("1", "true", "yes", "on"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(parameters=[NotificationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=NotificationReadSerializer, responses=NotificationReadResultSerializer)
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark notifications read: `{"ids": [..]}`, or all when ids is omitted."""
        data = NotificationReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        return Response({"marked": services.notifications_mark_read(user=request.user, notification_ids=ids)})


class SubThemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sub-themes of categories and issues, and candidate new issue types."""

    serializer_class = SubThemeSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = r"[0-9]{1,18}"

    @extend_schema(parameters=[SubThemeQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        themes = SubTheme.objects.select_related("category").order_by("-size", "id")
        if getattr(self, "swagger_fake_view", False) or self.action != "list":
            return themes
        params = _query(SubThemeQuerySerializer, self.request)
        if params.get("candidate") in ("1", "true", "yes", "on"):
            themes = themes.filter(is_candidate=True)
        if params.get("category"):
            themes = themes.filter(category__code=params["category"])
        if params.get("issue") is not None:
            themes = themes.filter(issue_id=params["issue"])
        if params.get("status"):
            themes = themes.filter(status=params["status"])
        return themes

    @extend_schema(request=SubThemePromoteSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        """Promote a candidate to a new category; its tickets become training labels."""
        data = SubThemePromoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = _service_call(services.subtheme_promote, subtheme=self.get_object(), actor=request.user,
                                 **data.validated_data)
        return Response({"category": category.code}, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubThemeMergeSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge a candidate into an existing category."""
        data = SubThemeMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = _service_call(services.subtheme_merge, subtheme=self.get_object(), actor=request.user,
                              category=data.validated_data["category"])
        return Response({"relabelled": count})
