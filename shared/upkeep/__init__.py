"""Keeping a site running without a developer: disk space, backups, and the warnings an operator must act on."""
