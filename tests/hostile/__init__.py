"""Hostile input: a corpus of bad texts, bodies, requests and configs run through every stage."""
