"""Signing in: the password step, then the second factor (CJIS IA-2), and what hangs on them —
the canonical account name the lockout counts by, enrolment of an authenticator app with
recovery codes, and REST framework sessions that count only once verified.

The password step is Django's LoginView (tjp.forms.EmailAuthenticationForm). Until the second
step is passed, tjp.middleware.SecondFactorRequiredMiddleware sends the session here.
"""

import base64
from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from tjp import services
from tjp.forms import StyledForm
from tjp.models import canonical_email


def lockout_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """django-axes' AXES_USERNAME_CALLABLE: failures are counted per account, not per spelling
    of it (axes would otherwise count the name as typed)."""
    if credentials and credentials.get("username") is not None:
        return canonical_email(credentials["username"])
    if request is not None:
        return canonical_email(request.POST.get("username", ""))
    return ""


class VerifiedSessionAuthentication(SessionAuthentication):
    """The browser session, for the API, only once it has passed the second factor."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = getattr(request._request, "user", None)
        if user is None or not user.is_verified():
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular matches exact classes)."""

    target_class = "tjp.signin.VerifiedSessionAuthentication"


class SecondFactorForm(StyledForm):
    otp_token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _with_next(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def _verified(request, device) -> None:
    otp_login(request, device)
    # A new session key once the person is fully signed in (session fixation).
    request.session.cycle_key()


@never_cache
@sensitive_post_parameters("otp_token")
def second_factor(request):
    """The second step: a code from the authenticator app (or a recovery code)."""
    if request.user.is_verified():
        return redirect(_next(request))
    if services.second_factor_device(request.user) is None:
        return redirect(_with_next("second_factor_enrol", request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(
                user=request.user, token=form.cleaned_data["otp_token"], request=request
            )
        except ValidationError as exc:
            form.add_error("otp_token", exc.message_dict["otp_token"])
        else:
            _verified(request, device)
            return redirect(_next(request))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": _next(request)}
    return render(request, "registration/second_factor.html", context, status=status)


def _qr_code(url: str) -> str:
    """The provisioning address as an SVG data URI (the CSP allows data: images only)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@never_cache
@sensitive_post_parameters("otp_token")
def second_factor_enrol(request):
    """First sign-in (or after an administrator's reset): set up an authenticator app."""
    if services.second_factor_device(request.user) is not None and not request.user.is_verified():
        return redirect(_with_next("second_factor", request))
    device = services.second_factor_enrolment(user=request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.second_factor_confirm(
                user=request.user, token=form.cleaned_data["otp_token"], request=request
            )
        except ValidationError as exc:
            form.add_error("otp_token", exc.message_dict["otp_token"])
        else:
            _verified(request, device)
            context = {"codes": codes, "next": _next(request)}
            return render(request, "registration/recovery_codes.html", context)
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next(request),
        "qr_code": _qr_code(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/second_factor_enrol.html", context, status=status)


@never_cache
def recovery_codes(request):
    """New recovery codes, shown once (the old ones stop working)."""
    if request.method != "POST":
        return render(request, "registration/recovery_codes.html", {"codes": None})
    codes = services.recovery_codes_issue(user=request.user, request=request)
    messages.success(request, _("New recovery codes issued; the earlier ones no longer work."))
    return render(request, "registration/recovery_codes.html", {"codes": codes, "next": ""})
