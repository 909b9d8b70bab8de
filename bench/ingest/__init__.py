"""The ingest benchmark (`python -m bench.ingest`); its modules are being split out of __main__.py."""
