from django.contrib import admin

from treatment import services
from treatment.models import Provider, TestingHoliday, TestingProfile


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Provider organisations. Clinicians join one by getting its group ("provider: <name>")
    on their account page."""

    list_display = ["name", "phone"]
    search_fields = ["name"]
    filter_horizontal = ["programs"]
    exclude = ["group"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New providers go through the service, which creates the organisation's group.
        created = services.provider_create(
            acting_user=request.user, name=obj.name, programs=[], phone=obj.phone
        )
        obj.pk, obj.group = created.pk, created.group
        obj._state.adding = False


@admin.register(TestingHoliday)
class TestingHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "program"]
    list_filter = ["program"]


@admin.register(TestingProfile)
class TestingProfileAdmin(admin.ModelAdmin):
    list_display = ["participant", "call_in_code", "method"]
    search_fields = ["call_in_code"]
    raw_id_fields = ["participant"]
