"""Content-Security-Policy header (settings.CONTENT_SECURITY_POLICY).

The pages load scripts and styles only from this site's static files: no inline <script>, no
<style> blocks, no style="" or on*="" attributes in the templates (tests/hardening/test_csp.py
checks the templates and a real browser checks the pages), so an injected tag cannot run.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            header = ("Content-Security-Policy-Report-Only" if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
                      else "Content-Security-Policy")
            response.headers.setdefault(header, policy)
        return response


def api_docs_view():
    """Swagger UI (the split view: its start-up script is a file) under the policy, except that it
    injects a <style> element at run time; the docs page alone allows inline styles, never scripts."""
    from drf_spectacular.views import SpectacularSwaggerSplitView

    class ApiDocsView(SpectacularSwaggerSplitView):
        def finalize_response(self, request, response, *args, **kwargs):
            response = super().finalize_response(request, response, *args, **kwargs)
            policy = settings.CONTENT_SECURITY_POLICY
            if policy and "style-src 'self'" in policy:
                header = ("Content-Security-Policy-Report-Only" if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
                          else "Content-Security-Policy")
                response[header] = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            return response

    return ApiDocsView.as_view(url_name="api-schema")
