"""compliance pages (being written)."""

urlpatterns = []
