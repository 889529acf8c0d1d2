from django.urls import path

from treatment import views

urlpatterns = [
    path(
        "participants/<uuid:participant_uuid>/",
        views.participant_treatment,
        name="participant_treatment",
    ),
    path(
        "participants/<uuid:participant_uuid>/act/<slug:action>/",
        views.treatment_action,
        name="treatment_action",
    ),
    path("testing/", views.testing_today, name="testing_today"),
    path("testing/run/", views.testing_run, name="testing_run"),
]
