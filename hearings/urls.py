"""/hearings/: each page module owns its routes."""

from hearings.views import (
    calendar,
    catalog,
    compliance,
    court,
    docket,
    feeds,
    packet,
    participant,
)

urlpatterns = [
    *calendar.urlpatterns,
    *docket.urlpatterns,
    *packet.urlpatterns,
    *court.urlpatterns,
    *feeds.urlpatterns,
    *compliance.urlpatterns,
    *catalog.urlpatterns,
    *participant.urlpatterns,
]
