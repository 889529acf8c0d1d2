"""Participant fixtures live in tests/conftest.py: treatment and hearings tests use them too."""
