from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A team that fixes issues: logistics, merchandising, warehouse..."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("中文名"), max_length=60)
    name_en = models.CharField(_("英文名"), max_length=80)
    email = models.EmailField(_("通知邮箱"), blank=True)
    # A DingTalk / WeCom / Feishu bot URL that receives a JSON POST for each notification.
    webhook_url = models.URLField(_("Webhook 地址"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name_zh

    def display_name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") else self.name_zh
