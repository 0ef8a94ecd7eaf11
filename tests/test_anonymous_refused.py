"""Every URL the project serves refuses anonymous users, except the few that must be public.

The test walks whatever URL configuration is installed (so URLs added later are
covered without touching this file), builds a sample path for each pattern,
and sends an anonymous GET and POST. A refusal is a redirect to a login page,
or 401/403. A 405 counts only when the other method showed the login refusal.
"""
from __future__ import annotations

import re
import re._constants as sre  # the regex parser behind `re`: a URL pattern becomes a tree to build a sample path from
import re._parser as sre_parse
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.urls.exceptions import Resolver404

# URL names that anonymous users may reach, and why. Anything else must refuse them.
PUBLIC_URL_NAMES = {
    # The login pages themselves: the one place an anonymous user must be let in.
    "login",
    "admin:login",
    # The API's login: it exchanges a username and password for a token, so it cannot ask for one.
    "feedback_api:token",
    # Logging out needs no login: for an anonymous user it ends nothing and redirects (admin's to its index).
    "logout",
    "admin:logout",
    # Liveness probe for load balancers and process supervisors; answers only {"status": "ok"}.
    "health",
}
# Static assets are served by WhiteNoise middleware (and by runserver when DEBUG), not by
# URL patterns, so they never appear in the walk; this guards the setting's shape instead.
STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")

# Sample values tried, in order, for each variable part of a pattern (brief: <int:pk> -> 1, <str> -> x).
SAMPLE_CHARACTERS = ["x", "1", "a", "-", "_", "."]
# Named groups whose value a view parses strictly before checking the user, with the shapes the
# group may take (DRF's format suffix is "json" in a regex pattern but ".json/" in a path converter).
SAMPLE_GROUP_VALUES = {"format": ["json", ".json/", ".json"]}


@dataclass(frozen=True)
class Endpoint:
    path: str
    name: str  # "namespace:name", or the dotted view path when unnamed
    pattern: str


def _char_for(items) -> str:
    """Pick a sample character that a regex character class accepts."""
    negate = any(op == sre.NEGATE for op, _ in items)
    for candidate in SAMPLE_CHARACTERS:
        if _in_class(candidate, items) != negate:
            return candidate
    raise ValueError(f"no sample character for class {items}")


def _in_class(char: str, items) -> bool:
    code = ord(char)
    for op, value in items:
        if op == sre.LITERAL and value == code:
            return True
        if op == sre.RANGE and value[0] <= code <= value[1]:
            return True
        if op == sre.CATEGORY:
            checks = {
                sre.CATEGORY_DIGIT: char.isdigit(),
                sre.CATEGORY_NOT_DIGIT: not char.isdigit(),
                sre.CATEGORY_WORD: char.isalnum() or char == "_",
                sre.CATEGORY_NOT_WORD: not (char.isalnum() or char == "_"),
                sre.CATEGORY_SPACE: char.isspace(),
                sre.CATEGORY_NOT_SPACE: not char.isspace(),
            }
            if checks.get(value, False):
                return True
    return False


def _sample(parsed, group_names: dict[int, str], variant: int | None = None) -> str:
    """Build one string that the parsed regex matches (first branch, minimal non-zero repeats)."""
    out: list[str] = []
    for op, value in parsed:
        if op == sre.LITERAL:
            out.append(chr(value))
        elif op == sre.NOT_LITERAL:
            out.append("x" if chr(value) != "x" else "1")
        elif op == sre.ANY:
            out.append("x")
        elif op == sre.IN:
            out.append(_char_for(value))
        elif op == sre.AT:
            continue
        elif op == sre.BRANCH:
            out.append(_sample(value[1][0], group_names, variant))
        elif op == sre.SUBPATTERN:
            group, *_, sub = value
            name = group_names.get(group)
            if variant is not None and name in SAMPLE_GROUP_VALUES:
                out.append(SAMPLE_GROUP_VALUES[name][variant])
            else:
                out.append(_sample(sub, group_names, variant))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, sub = value
            out.append(_sample(sub, group_names, variant) * max(low, min(1, high)))
        else:
            raise ValueError(f"unsupported regex construct {op} in a URL pattern")
    return "".join(out)


def _regex_sample(regex: str) -> str:
    """Return a string the regex matches, preferring the SAMPLE_GROUP_VALUES shapes that fit."""
    compiled = re.compile(regex)
    names = {number: name for name, number in compiled.groupindex.items()}
    parsed = sre_parse.parse(regex)
    variants = max((len(values) for values in SAMPLE_GROUP_VALUES.values()), default=0)
    for variant in [*range(variants), None]:
        sample = _sample(parsed, names, variant)
        if compiled.match(sample):
            return sample
    return _sample(parsed, names)


def _walk(resolvers, prefix: str = "", namespace: str = "") -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    for entry in resolvers:
        part = _regex_sample(entry.pattern.regex.pattern)
        if isinstance(entry, URLResolver):
            child_namespace = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            endpoints += _walk(entry.url_patterns, prefix + part, child_namespace)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else entry.lookup_str
            endpoints.append(Endpoint(path="/" + prefix + part, name=name, pattern=prefix + str(entry.pattern)))
    return endpoints


def all_endpoints() -> list[Endpoint]:
    """Every URL pattern of the project with one concrete path that reaches it."""
    return _walk(get_resolver().url_patterns)


def _login_paths() -> set[str]:
    paths = set()
    for name in (settings.LOGIN_URL, "login", "admin:login"):
        try:
            paths.add(urlsplit(name if name.startswith("/") else reverse(name)).path)
        except NoReverseMatch:
            continue
    return paths


def _verdict(response) -> str:
    """'refused' (login redirect, 401, 403), 'method' (405), or what the anonymous user got instead."""
    if response.status_code in (401, 403):
        return "refused"
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlsplit(response["Location"]).path
        return "refused" if target in _login_paths() else f"redirect to {response['Location']}"
    if response.status_code == 405:
        return "method"
    return f"status {response.status_code}"


ENDPOINTS = all_endpoints()


def test_the_walk_finds_the_project_urls():
    names = {endpoint.name for endpoint in ENDPOINTS}

    assert {"login", "health", "ticket-list", "ticket-detail", "admin:index", "set_language"} <= names
    assert len(ENDPOINTS) > 20


def test_every_public_name_still_exists():
    # A renamed login or health URL would otherwise leave a stale, silently useless exemption.
    names = {endpoint.name for endpoint in ENDPOINTS}

    assert PUBLIC_URL_NAMES <= names


def test_static_assets_are_outside_the_url_configuration():
    assert not any(endpoint.path.startswith(STATIC_PREFIX) for endpoint in ENDPOINTS)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: f"{endpoint.name} {endpoint.path}")
def test_anonymous_users_are_refused(client, endpoint):
    try:
        match = resolve(endpoint.path)
    except Resolver404:
        pytest.fail(f"no sample path reaches {endpoint.pattern!r}; add a value to SAMPLE_GROUP_VALUES")
    answered_by = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    if endpoint.name in PUBLIC_URL_NAMES or answered_by in PUBLIC_URL_NAMES:
        pytest.skip(f"{endpoint.name} is public on purpose")

    verdicts = {
        "GET": _verdict(client.get(endpoint.path)),
        "POST": _verdict(client.post(endpoint.path, {"text": "anonymous", "category": "damaged"})),
    }

    assert "refused" in verdicts.values(), f"{endpoint.path} let an anonymous user in: {verdicts}"
    assert set(verdicts.values()) <= {"refused", "method"}, f"{endpoint.path} let an anonymous user in: {verdicts}"


# --- The check itself catches a leak ---
# A deliberately leaky URL configuration, used by the test below through @pytest.mark.urls.


def _leaky_view(request, **kwargs):
    return HttpResponse("secret")


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("leaky/<int:pk>/", _leaky_view, name="leaky"),
    path("guarded/<slug:code>/", login_required(_leaky_view, login_url="login"), name="guarded"),
]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_check_tells_a_leaky_view_from_a_guarded_one(client):
    endpoints = {endpoint.name: endpoint for endpoint in all_endpoints()}

    assert endpoints["leaky"].path == "/leaky/1/"
    assert _verdict(client.get(endpoints["leaky"].path)) == "status 200"
    assert _verdict(client.get(endpoints["guarded"].path)) == "refused"
