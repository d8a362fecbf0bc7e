"""The trained models that ship with Kulak (sentiment/, intent/, topic/), rebuilt by training/build_models.py."""
