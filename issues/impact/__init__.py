"""Measuring whether a fix worked: rates before and after, and the statistics."""
