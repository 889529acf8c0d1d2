"""Signing in: the canonical account name the lockout counts by."""

from django.http import HttpRequest

from tjp.models import canonical_email


def lockout_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """django-axes' AXES_USERNAME_CALLABLE: failures are counted per account, not per spelling
    of it (axes would otherwise count the name as typed)."""
    if credentials and credentials.get("username") is not None:
        return canonical_email(credentials["username"])
    if request is not None:
        return canonical_email(request.POST.get("username", ""))
    return ""
