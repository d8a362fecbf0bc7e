"""Faults: sources, Slack, helpdesks and databases that fail, and runs killed part-way; nothing lost or sent twice."""
