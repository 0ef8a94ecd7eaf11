"""Django admin for the ticket side: the taxonomy, products and tickets.

Tickets are read-mostly here: classification, confirmation and the issue a ticket counts towards are
set by the services (feedback.classification, feedback.services), which keep the issues' counts and
the audit trail right, so those fields are read-only and tickets are filed through the pages or the API.
"""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .masking import mask_phone_numbers
from .models import Category, Product, Ticket

# The admin's own titles, in the active language like every other page.
admin.site.site_header = _("问题分诊后台")
admin.site.site_title = _("问题分诊后台")
admin.site.index_title = _("数据管理")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "default_department", "is_active", "sort_order")
    list_filter = ("is_active", "default_department")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("default_department",)
    ordering = ("sort_order", "id")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "product_category", "created_at")
    list_filter = ("product_category",)
    search_fields = ("sku", "name", "product_category")
    readonly_fields = ("created_at",)
    show_full_result_count = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "short_text", "channel", "product", "category", "triage_status", "issue")
    list_filter = ("triage_status", "channel", "category", "external_source")
    search_fields = ("=external_id", "=order_number", "=sku_raw")
    list_select_related = ("product", "category", "issue")
    raw_id_fields = ("product", "filed_by")
    readonly_fields = (
        "text_masked", "created_at", "triage_status", "predicted_category", "prediction_confidence",
        "prediction_top", "prediction_terms", "model_version", "classified_at", "confirmed_category",
        "confirmed_by", "confirmed_at", "category", "issue", "also_category",
    )
    date_hierarchy = "received_at"
    # Counting millions of rows on every page is what makes an admin list slow.
    show_full_result_count = False

    @admin.display(description=_("投诉内容"))
    def short_text(self, ticket: Ticket) -> str:
        return ticket.text_masked[:40] or ticket.text[:40]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        # The masked copy is what people without the full-text right see and search: keep it in step.
        obj.text_masked = mask_phone_numbers(obj.text)
        super().save_model(request, obj, form, change)
