"""Streamlit adapters: the lobby kiosk and the staff app. Pages call services in `shared`, never SQL."""
