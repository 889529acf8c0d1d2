"""catalog pages (being written)."""

urlpatterns = []
