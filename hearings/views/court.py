"""court pages (being written)."""

urlpatterns = []
