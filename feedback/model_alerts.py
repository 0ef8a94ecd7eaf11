"""Tell the admins when the triage model had to be replaced because its file was damaged."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db.models import Q

logger = logging.getLogger(__name__)


def model_fallback_notify(*, unreadable: list[str], active: str, errors: list[str], retrained: bool = False) -> int:
    """Notify every admin (in the app and by email) once per damaged version; return how many were notified."""
    from accounts.models import Role
    from issues.models.notification import NotificationKind
    from issues.services.notifications import TranslatableText, notification_create

    if retrained:
        title = TranslatableText("模型 %(version)s 无法读取，已用种子语料和全部人工标注重新训练 %(active)s",
                                 version=unreadable[0], active=active)
    else:
        title = TranslatableText("模型 %(version)s 无法读取，已回退到 %(active)s", version=", ".join(unreadable),
                                 active=active)
    body = TranslatableText("模型文件无法读取，已回退到最新的可用版本。请检查 FEEDBACK_MODEL_DIR。\n%(errors)s",
                            errors="\n".join(errors))
    admins = get_user_model().objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
    notified = 0
    for admin in admins:
        created = notification_create(
            kind=NotificationKind.MODEL, title=title, body=body, recipient=admin,
            payload={"unreadable": unreadable, "active": active, "retrained": retrained},
            dedupe_key=f"model-damaged:{unreadable[0]}:{admin.pk}"[:120],
        )
        notified += created is not None
    logger.error("model %s unreadable, now %s; %d admins notified", ", ".join(unreadable), active, notified)
    return notified
