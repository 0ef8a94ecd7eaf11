"""The minimal Django + DRF create endpoint that benchmarks/intake_bench.py measures the app against.

Token auth, one model, an on-commit Celery publish, nothing else: no middleware, no
sessions, no i18n, no templates. ``DJANGO_SETTINGS_MODULE=benchmarks.reference.settings``.
"""
