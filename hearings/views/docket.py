"""docket pages (being written)."""

urlpatterns = []
