"""Placeholder: being built."""

urlpatterns = []
