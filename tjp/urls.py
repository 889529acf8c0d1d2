from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from hearings import api as hearings_api
from participants import api as participants_api
from tjp import api, signin, tokens, views
from tjp.forms import AuditedPasswordResetForm, AuditedSetPasswordForm, EmailAuthenticationForm
from treatment import api as treatment_api

# The API answers an unknown path in its error shape, like its own 404s (docs/api.md §7).
handler404 = "tjp.api_errors.page_not_found"

router = DefaultRouter()
router.register("programs", api.ProgramViewSet, basename="program")
router.register("participants", participants_api.ParticipantViewSet, basename="participant")
router.register("progress-updates", treatment_api.ProgressUpdateViewSet, basename="progress-update")
router.register(
    "treatment-sessions", treatment_api.TreatmentSessionViewSet, basename="treatment-session"
)
router.register("drug-tests", treatment_api.DrugTestViewSet, basename="drug-test")
router.register("hearing-sessions", hearings_api.HearingSessionViewSet, basename="hearing-session")

urlpatterns = [
    path("", views.home, name="home"),
    path("programs/<uuid:program_uuid>/", views.program_detail, name="program_detail"),
    path("programs/<uuid:program_uuid>/settings/", views.program_settings, name="program_settings"),
    path("audit/", views.audit_log, name="audit_log"),
    path("participants/", include("participants.urls")),
    path("treatment/", include("treatment.urls")),
    path("hearings/", include("hearings.urls")),
    path("reports/", include("reporting.urls")),
    path("accounts/locked/", views.locked_accounts, name="locked_accounts"),
    path("accounts/tokens/", tokens.token_list, name="api_tokens"),
    path("accounts/tokens/<uuid:token_uuid>/revoke/", tokens.token_revoke, name="api_token_revoke"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/", signin.second_factor, name="second_factor"),
    path("accounts/verify/enrol/", signin.second_factor_enrol, name="second_factor_enrol"),
    path("accounts/recovery-codes/", signin.recovery_codes, name="recovery_codes"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(form_class=AuditedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=AuditedSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/users/", views.accounts, name="accounts"),
    path("accounts/users/<uuid:user_uuid>/", views.account_action, name="account_action"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    # The admin signs in through the same two steps as everyone (OTPAdminSite: tjp.admin).
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]
