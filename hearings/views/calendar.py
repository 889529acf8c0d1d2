"""calendar pages (being written)."""

urlpatterns = []
