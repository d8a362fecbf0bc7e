"""Integration tests: real databases and real local servers."""
