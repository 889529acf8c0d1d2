from django.urls import path

from participants import views

urlpatterns = [
    path("", views.roster, name="roster"),
    path("new/", views.referral_new, name="referral_new"),
    path("<uuid:participant_uuid>/", views.participant_detail, name="participant_detail"),
    path(
        "<uuid:participant_uuid>/act/<slug:action>/",
        views.participant_action,
        name="participant_action",
    ),
    path(
        "<uuid:participant_uuid>/disclosures/",
        views.participant_disclosures,
        name="participant_disclosures",
    ),
    path(
        "<uuid:participant_uuid>/disclosures.pdf",
        views.participant_disclosures_pdf,
        name="participant_disclosures_pdf",
    ),
    path(
        "<uuid:participant_uuid>/documents/<uuid:document_uuid>/",
        views.document_download,
        name="document_download",
    ),
]
