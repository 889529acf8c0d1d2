from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite
from guardian.admin import GuardedModelAdmin

from tjp.models import AuditEvent, Phase, Program, User

# The admin too needs a session that passed the second factor (django-otp's documented way of
# making the default site an OTPAdminSite). Its own login page sends people to ours.
admin.site.__class__ = OTPAdminSite


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Role and status"), {"fields": ("is_active", "is_staff", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Program)
class ProgramAdmin(GuardedModelAdmin):
    """Programs; 'Object permissions' assigns staff (the tjp.view_program grant)."""

    list_display = ["name", "code", "kind", "legal_track", "language", "time_zone"]
    inlines = [PhaseInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor_label", "action", "object_repr", "program", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
