"""A department's team page: its members with the open issues each holds; the lead adds and removes agents."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.permissions import team_can_manage

from .. import selectors, services
from ..models import Department


class DepartmentTeamView(LoginRequiredMixin, View):
    template_name = "issues/team.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.department = get_object_or_404(Department, code=kwargs["code"])
            if not team_can_manage(request.user, self.department.pk):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, code: str):
        return render(request, self.template_name, {
            "department": self.department,
            "team": selectors.department_team_with_load(department=self.department),
            "candidates": selectors.team_candidates(),
        })

    def post(self, request, code: str):
        action = request.POST.get("action")
        raw_id = request.POST.get("user", "")
        person = None
        if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10:
            person = get_user_model().objects.filter(pk=int(raw_id)).first()
        if action not in ("add", "remove"):
            messages.error(request, _("未知的操作。"))
        elif person is None:
            messages.error(request, _("请选择一位成员。"))
        else:
            service = services.department_member_add if action == "add" else services.department_member_remove
            try:
                service(department=self.department, user=person, actor=request.user)
            except services.TeamChangeError as error:
                messages.error(request, str(error))
            else:
                name = person.get_full_name() or person.get_username()
                messages.success(request, (_("已将 %(name)s 加入团队。") if action == "add" else _("已将 %(name)s 移出团队。"))
                                 % {"name": name})
        return redirect("department-team", code=self.department.code)
