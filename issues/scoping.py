"""Which issue a ticket belongs to: its category plus a scope (SKU by default).

The scope rules are an ordered list in ``ISSUE_SCOPE_RULES``; the first rule
that yields a key wins, and a ticket that names nothing falls back to an
issue covering its whole category.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.utils.module_loading import import_string

from .conf import issue_setting
from .models import ScopeType

# The ticket columns scope rules may read; grouping loads exactly these.
TICKET_FIELDS = (
    "id",
    "category_id",
    "issue_id",
    "received_at",
    "channel",
    "sku_raw",
    "product_id",
    "product__sku",
    "product__name",
    "product__product_category",
)

ScopeRule = Callable[[dict[str, Any]], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class IssueKey:
    category_id: int
    scope_type: str
    scope_key: str


def scope_by_sku(row: dict[str, Any]) -> tuple[str, str] | None:
    sku = row.get("product__sku") or (row.get("sku_raw") or "").strip()
    return (ScopeType.SKU, sku) if sku else None


def scope_by_product_category(row: dict[str, Any]) -> tuple[str, str] | None:
    product_category = row.get("product__product_category") or ""
    return (ScopeType.PRODUCT_CATEGORY, product_category) if product_category else None


def scope_by_channel(row: dict[str, Any]) -> tuple[str, str] | None:
    channel = row.get("channel") or ""
    return (ScopeType.CUSTOM, f"channel:{channel}") if channel else None


BUILTIN_RULES: dict[str, ScopeRule] = {
    "sku": scope_by_sku,
    "product_category": scope_by_product_category,
    "channel": scope_by_channel,
}


def _resolve(names: list[str]) -> list[ScopeRule]:
    return [BUILTIN_RULES[name] if name in BUILTIN_RULES else import_string(name) for name in names]


class ScopeRules:
    """The configured scope rules, per category code ("*" for every other category)."""

    def __init__(self, config: list[str] | dict[str, list[str]], category_codes: dict[int, str]):
        if isinstance(config, dict):
            self.default = _resolve(config.get("*", ["sku", "product_category"]))
            self.by_code = {code: _resolve(names) for code, names in config.items() if code != "*"}
        else:
            self.default = _resolve(list(config))
            self.by_code = {}
        self.category_codes = category_codes

    def for_category(self, category_id: int) -> list[ScopeRule]:
        return self.by_code.get(self.category_codes.get(category_id, ""), self.default)


def scope_rules() -> ScopeRules:
    """Load the configured scope rules (one small query for the category codes)."""
    from feedback.models import Category

    return ScopeRules(issue_setting("ISSUE_SCOPE_RULES"), dict(Category.objects.values_list("id", "code")))


def issue_key_for(row: dict[str, Any], rules: ScopeRules | None = None) -> IssueKey | None:
    """Return the issue key of one ticket row, or None when the ticket has no category yet."""
    category_id = row.get("category_id")
    if not category_id:
        return None
    for rule in (rules or scope_rules()).for_category(category_id):
        scope = rule(row)
        if scope:
            scope_type, key = scope
            return IssueKey(category_id, str(scope_type), str(key)[:120])
    return IssueKey(category_id, ScopeType.CATEGORY, "")
