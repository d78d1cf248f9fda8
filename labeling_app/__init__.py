"""The `label` app: pairwise A/B preference labeling with a SQLite store, agreement and
bias metrics, and export to training data."""
