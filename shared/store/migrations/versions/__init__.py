"""Schema revisions, numbered 0001 (the baseline: the release before migrations), 0002, ... in order."""
