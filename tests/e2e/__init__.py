"""Real-browser tests of the lobby kiosk (Playwright driving Debian's Chromium)."""
