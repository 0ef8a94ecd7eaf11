from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """One category of the triage taxonomy (logistics_delay, damaged ...)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("中文名"), max_length=40)
    name_en = models.CharField(_("英文名"), max_length=60)
    description = models.TextField(_("说明"), blank=True)
    description_en = models.TextField(_("英文说明"), blank=True)
    default_department = models.ForeignKey(
        "issues.Department", verbose_name=_("默认部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    # An admin's override of the confidence needed to apply this category automatically
    # (feedback.classification.category_threshold: this, else TRIAGE_CATEGORY_THRESHOLDS, else the global).
    confidence_threshold = models.FloatField(_("置信度阈值"), null=True, blank=True)
    # Who last set or cleared the override, and when (shown on the model page).
    threshold_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    threshold_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("问题类别")
        verbose_name_plural = _("问题类别")

    def __str__(self) -> str:
        return self.name_zh

    def display_name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") else self.name_zh

    def display_description(self, language: str = "zh-hans") -> str:
        """The description in ``language``; the Chinese where no English was written yet."""
        return (self.description_en or self.description) if language.startswith("en") else self.description


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(_("商品名称"), max_length=200)
    # Product category such as 水果, 服饰, 数码 (not the complaint category).
    product_category = models.CharField(_("商品品类"), max_length=40, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("商品")
        verbose_name_plural = _("商品")

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    CHAT = "chat", _("在线客服")
    EMAIL = "email", _("邮件")
    APP = "app", _("App")
    REVIEW = "review", _("商品评价")
    PLATFORM = "platform", _("平台售后")


class TriageStatus(models.TextChoices):
    PENDING = "pending", _("待分类")
    NEEDS_REVIEW = "needs_review", _("待人工确认")
    CLASSIFIED = "classified", _("已自动分类")
    CONFIRMED = "confirmed", _("已人工确认")


class Ticket(models.Model):
    """One complaint as an agent or a platform export recorded it."""

    text = models.TextField(_("投诉内容"))
    # The text with phone numbers masked (feedback.masking), written with ``text`` by the services:
    # people who may only see the masked text search this copy, so a search cannot recover a
    # masked number digit by digit.
    text_masked = models.TextField(blank=True, default="", editable=False)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.CHAT)
    product = models.ForeignKey(
        Product, verbose_name=_("商品"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # The SKU as given, kept even when it names no known product (saved with a warning).
    sku_raw = models.CharField(_("原始 SKU"), max_length=64, blank=True)
    order_number = models.CharField(_("订单号"), max_length=64, blank=True)
    external_source = models.CharField(_("来源系统"), max_length=40, blank=True)
    external_id = models.CharField(_("外部工单号"), max_length=100, null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    triage_status = models.CharField(
        _("分类状态"), max_length=16, choices=TriageStatus.choices, default=TriageStatus.PENDING, db_index=True
    )
    predicted_category = models.ForeignKey(
        Category, verbose_name=_("预测类别"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prediction_confidence = models.FloatField(_("置信度"), null=True, blank=True)
    prediction_top = models.JSONField(_("候选类别"), default=list, blank=True)
    prediction_terms = models.JSONField(_("关键词"), default=list, blank=True)
    model_version = models.CharField(_("模型版本"), max_length=40, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    confirmed_category = models.ForeignKey(
        Category, verbose_name=_("确认类别"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The category the ticket counts under: the confirmed one, else an applied prediction.
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # A second complaint in the same ticket (a fake that also arrived broken), set by an agent, often on the
    # model's suggestion (feedback.selectors.ticket_also_suggestion). It never groups or counts the ticket:
    # the issue library only filters by it. Never the ticket's own category (the constraint below; writers
    # of ``category`` clear it when they would make the two equal).
    also_category = models.ForeignKey(
        Category, verbose_name=_("也涉及"), null=True, blank=True, on_delete=models.SET_NULL, related_name="also_tickets"
    )
    also_category_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    also_category_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The issue this ticket counts towards; moved (with both issues' counts) when the category changes.
    issue = models.ForeignKey(
        "issues.Issue", verbose_name=_("问题"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="tickets", db_index=True,
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="ticket_unique_external_id",
            ),
            # NULL on either side passes (SQL comparison with NULL is unknown, not false).
            models.CheckConstraint(condition=~Q(also_category=F("category")), name="ticket_also_not_category"),
        ]
        indexes = [
            models.Index(fields=["category", "received_at"]),
            models.Index(fields=["triage_status", "created_at"]),
            models.Index(fields=["issue", "received_at"], name="ticket_issue_received"),
            # The model page's sample: the most recently confirmed tickets (a small share of all tickets).
            models.Index(fields=["-confirmed_at"], name="ticket_confirmed_recent", condition=Q(confirmed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:30]}"


class CategoryLabel(models.Model):
    """An agent's confirmation or correction of a ticket's category: training data."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="labels")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    previous_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class ImportJobBase(models.Model):
    """What every file import shows while it runs: status, progress, row errors and warnings.

    Ticket imports (ImportJob) and sales imports (impact.SalesImportJob) add their
    file and their own counters; both use the same progress page and bar.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"row": 7, "field": "内容", "message": "..."}], capped so a broken file cannot bloat the row.
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportJob(ImportJobBase):
    """A bulk import of a CSV/XLSX export, run by a Celery task and watched by its progress bar."""

    file = models.FileField(upload_to="imports/%Y/%m/")
    source = models.CharField(_("来源系统"), max_length=40, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True)
    # The workbook sheet chosen in the import wizard; blank = the sheet that looks like tickets.
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)

    class Meta(ImportJobBase.Meta):
        pass


class ImportMappingPreset(models.Model):
    """A column mapping saved from the import wizard, to apply to the next file of the same shape."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    source = models.CharField(_("来源系统"), max_length=40, blank=True)
    # {column header: field}, as ``feedback.imports.columns.column_mapping_parse`` returns it.
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("列映射方案")
        verbose_name_plural = _("列映射方案")

    def __str__(self) -> str:
        return self.name


class SavedView(models.Model):
    """A ticket-list filter an agent named ("我的渠道 · 今天 · 破损变质"), shown in their sidebar only.

    ``filters`` holds the list's query parameters; dates are kept as days before the day the view
    is opened (0 = today), so "今天" stays today.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("名称"), max_length=60)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")]

    def __str__(self) -> str:
        return self.name


class TicketPresence(models.Model):
    """Who has a ticket open right now (the ticket page or the review stream), refreshed by polling.

    A row older than feedback.presence.PRESENCE_SECONDS means the agent has gone; rows are
    overwritten, never accumulated (one per agent and ticket).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_presence_unique")]


class TrainingRun(models.Model):
    """One retraining of the triage model, as the model page's progress bar shows it.

    At most one run is in progress (``in_progress`` is True, unique; NULL once finished), so two
    clicks cannot start two trainings. The task claims a queued run with a conditional update and
    reports its stage and percentage here (feedback.services.training_run_execute).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("训练中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("等待开始")
        COLLECTING = "collecting", _("收集标注")
        TRAINING = "training", _("训练")
        EVALUATING = "evaluating", _("评估")
        FINAL = "final", _("训练最终版本")
        GATE = "gate", _("门槛判定")
        FINISHED = "finished", _("结束")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    in_progress = models.BooleanField(null=True, default=True, editable=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=64, blank=True)
    activated = models.BooleanField(null=True)
    # The gate's reason (English, technical) or the error that stopped the run.
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["in_progress"], name="training_run_one_in_progress")]

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def outcome(self) -> str:
        """What the run ended with, in the reader's language ("" while it runs)."""
        from django.utils.translation import gettext

        if self.status == self.Status.FAILED:
            return gettext("训练失败。")
        if self.status != self.Status.DONE:
            return ""
        if self.activated:
            return gettext("新版本 %(version)s 已通过评估门槛并启用。") % {"version": self.version}
        return gettext("新版本 %(version)s 未通过评估门槛，继续使用当前模型。") % {"version": self.version}
