"""What the browser tests share: the factories' password, Playwright's expect, logging in by keyboard."""
from __future__ import annotations

import re

from django.urls import reverse

PASSWORD = "pass-1234"  # tests.factories.UserFactory's


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def log_in(page, username: str) -> None:
    """Log in through the form and wait for the landing page (which depends on the role)."""
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(re.compile(r"/$"))
