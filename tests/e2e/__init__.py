"""End-to-end tests of the kulak command."""
