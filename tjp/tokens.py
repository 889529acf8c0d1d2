"""Per-user API tokens for providers and labs: created, listed and revoked by their owner.

A token is django-rest-knox's `AuthToken`: knox keeps a SHA-512 digest and the first characters
(`token_key`, its lookup key), never the token. The plain token exists only in the response to
the request that created it: it is not put in the session, in a message, in the audit trail or
in a log, and that page is sent with `Cache-Control: no-store`.

Only roles holding `tjp.use_api_tokens` (clinicians and coordinators: provider and lab
integrations) may create tokens, and a token stops authenticating as soon as its owner's role no
longer holds that permission. A token is scoped exactly like its owner in the browser.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import exceptions

from tjp import services
from tjp.access import can
from tjp.forms import StyledForm
from tjp.models import ApiTokenName

USE_API_TOKENS = "tjp.use_api_tokens"
PREFIX_LENGTH = services.TOKEN_PREFIX_LENGTH


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token authentication, refused to accounts whose role may not use API tokens."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        if not user.has_perm(USE_API_TOKENS):
            raise exceptions.AuthenticationFailed(
                gettext_lazy("This account may not use API tokens.")
            )
        # An integration signs in by token only: its use keeps the account from being disabled
        # as inactive.
        from tjp.services import account_used

        account_used(user)
        return user, token


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the subclass above (drf-spectacular matches exact classes)."""

    target_class = "tjp.tokens.ApiTokenAuthentication"
    name = "apiToken"


class TokenForm(StyledForm):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “Lab results upload”."),
    )


def _require_token_user(request) -> None:
    if not can(request.user, USE_API_TOKENS):
        raise PermissionDenied


def _own_tokens(user):
    return AuthToken.objects.filter(user=user, label__isnull=False).select_related("label")


@never_cache
def token_list(request):
    """The user's own tokens, and the form to create one (POST shows the new token, once)."""
    _require_token_user(request)
    form = TokenForm(request.POST or None)
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if request.method == "POST" and form.is_valid():
        try:
            label, plain = services.api_token_create(
                acting_user=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Rendered, not redirected: the token must not wait in the session for the next page.
            context = {"token": plain, "label": label, "auth_token": label.token}
            return render(request, "tjp/api_tokens_created.html", context)
    now = timezone.now()
    tokens = [
        {
            "uuid": t.label.uuid,
            "name": t.label.name,
            "prefix": t.token_key[:PREFIX_LENGTH],
            "created": t.created,
            "expiry": t.expiry,
            "expired": t.expiry is not None and t.expiry <= now,
        }
        for t in _own_tokens(request.user).order_by("-created")
    ]
    return render(request, "tjp/api_tokens.html", {"form": form, "tokens": tokens, "limit": limit})


@require_POST
def token_revoke(request, token_uuid):
    """Revoke one of the user's own tokens; another user's token is a 404."""
    _require_token_user(request)
    try:
        label = ApiTokenName.objects.get(uuid=token_uuid, token__user=request.user)
    except ApiTokenName.DoesNotExist as exc:
        raise Http404 from exc
    prefix = services.api_token_revoke(acting_user=request.user, label=label, request=request)
    messages.success(
        request,
        _("The token “%(name)s” (%(prefix)s…) is revoked: it no longer works.")
        % {"name": label.name, "prefix": prefix},
    )
    return redirect("api_tokens")
