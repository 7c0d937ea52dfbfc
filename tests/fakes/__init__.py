"""Loopback fakes of the platform APIs, for tests."""
