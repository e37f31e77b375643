"""Integration tests: a real Kafka broker (see conftest.py for the shared fixtures)."""
