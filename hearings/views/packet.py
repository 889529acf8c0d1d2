"""packet pages (being written)."""

urlpatterns = []
