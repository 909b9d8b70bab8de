"""The store itself: settings (`CLINIC_*`), the engine factory, the unit of work, the schema and its
Alembic revisions, the clinic clock, the domain's errors, backups and the store lock."""
