"""Walk every URL pattern: an anonymous request is refused everywhere but a short public list."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

PUBLIC = {
    "/accounts/login/",
    "/healthz",
    "/i18n/setlang/",
    # Asking for a reset link, and using one (the link's token is the credential).
    "/accounts/password-reset/",
    "/accounts/password-reset/sent/",
    "/accounts/password-reset/x/x/",
    "/accounts/password-reset/done/",
}
# Fetched without signing in (calendar applications): the secret in the address is the
# credential, and an unknown secret is a 404.
SECRET_ADDRESSES = {"/hearings/feeds/x.ics"}
SAMPLE_UUID = "3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"  # fixed: xdist workers must collect alike
SAMPLE_BY_CONVERTER = {
    "uuid": SAMPLE_UUID,
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x",
    "drf_format_suffix": ".json",
}
SAMPLE_BY_GROUP = {"format": "json", "app_label": "tjp"}


def _fill_groups(regex: str) -> str:
    """Replace each (?P<name>...) group, nested parentheses included, by a sample value."""
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
                if depth == 0:
                    break
            out.append(SAMPLE_BY_GROUP.get(name, SAMPLE_UUID))
            i = j
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def _concrete(pattern) -> str:
    import re

    route = str(pattern)
    if isinstance(pattern, RoutePattern):  # path() route
        return re.sub(
            r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER[m.group(1) or "str"], route
        )
    route = _fill_groups(route)
    for token in ("^", "$", "\\Z"):
        route = route.replace(token, "")
    return route.replace("\\.", ".").replace("/?", "/")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + _concrete(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + _concrete(p.pattern)


ROUTES = sorted({"/" + r for r in _walk(get_resolver().url_patterns)})


def test_the_walk_found_the_app():
    assert {"/", "/api/v1/programs/", f"/api/v1/programs/{SAMPLE_UUID}/"} <= set(ROUTES)
    assert len(ROUTES) > 20


@pytest.mark.parametrize("path", [r for r in ROUTES if r not in PUBLIC | SECRET_ADDRESSES])
def test_anonymous_is_refused(client, db, path):
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
    else:
        assert response.status_code == 302, path
        # /admin/login/ itself sends everyone to the one sign-in page.
        assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), path


@pytest.mark.parametrize("path", sorted(PUBLIC - {"/i18n/setlang/"}))
def test_public_pages_answer_anonymous(client, db, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", sorted(SECRET_ADDRESSES))
def test_secret_addresses_refuse_an_unknown_secret(client, db, path):
    assert path in ROUTES
    assert client.get(path).status_code == 404
