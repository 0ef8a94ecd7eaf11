from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.091 -> "9.1%"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def per_mille(value, digits: int = 2) -> str:
    """Tickets per 1,000 orders: 2.1 -> "2.10"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def signed_percent(value, digits: int = 1) -> str:
    """A relative change: -0.077 -> "-7.7%"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f}%"


@register.filter
def power_rate(power, effect: str) -> str:
    """The backtest's detection rate of one injected effect ("-0.3") as "76.7%"; "" when not measured."""
    figures = (power or {}).get(effect) or {}
    rate = figures.get("rate")
    return "" if rate is None else f"{rate * 100:.1f}%"
