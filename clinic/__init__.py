"""The `clinic` command: composition root (the only package that imports shared, telemetry and kiosk)."""
