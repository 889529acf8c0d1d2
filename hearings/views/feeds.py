"""feeds pages (being written)."""

urlpatterns = []
