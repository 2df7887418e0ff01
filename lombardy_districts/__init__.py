"""Propose area social plans for Lombardy's municipalities that meet the regional floors."""

from .load import load_municipalities

__all__ = ["load_municipalities"]
__version__ = "0.1.0"
