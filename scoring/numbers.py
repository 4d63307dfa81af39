"""Figures as the reader writes them. Django's `number_format` cuts a float's decimals instead of
rounding them (67.26 shows as 67.2), and a tip must quote the figure the data rounds to."""

from django.utils.formats import get_format


def decimal(value: float, places: int = 1) -> str:
    """Rounded as `f"{value:.1f}"` does, with the active language's separator: "67.3", "67,3"."""
    return f"{value:.{places}f}".replace(".", get_format("DECIMAL_SEPARATOR"))


def signed(value: float, places: int = 1) -> str:
    """A change with its sign: "+1.5", "-0,8"."""
    return ("+" if value >= 0 else "") + decimal(value, places)
