"""/reports/: each page module owns its routes."""

from reporting.views import case, dashboard, evaluation, exports

urlpatterns = [
    *dashboard.urlpatterns,
    *exports.urlpatterns,
    *evaluation.urlpatterns,
    *case.urlpatterns,
]
