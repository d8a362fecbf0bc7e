"""Kulak test suite."""
