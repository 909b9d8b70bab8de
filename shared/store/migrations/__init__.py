"""Alembic's environment (env.py) and the store's schema revisions (versions/); run by `shared.store.schema`."""
