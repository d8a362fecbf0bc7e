"""Helpers shared by test layers: synthetic, made-up data that never comes from a real customer file."""
