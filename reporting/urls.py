"""/reports/: each page module owns its routes."""

from reporting.views import (
    case,
    dashboard,
    equity,
    evaluation,
    exports,
    pdf,
    standards,
    subscriptions,
)

urlpatterns = [
    *dashboard.urlpatterns,
    *pdf.urlpatterns,
    *equity.urlpatterns,
    *standards.urlpatterns,
    *subscriptions.urlpatterns,
    *exports.urlpatterns,
    *evaluation.urlpatterns,
    *case.urlpatterns,
]
