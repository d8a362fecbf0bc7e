"""Property tests: the parsers and the PII masker fed generated input by hypothesis."""
