"""MQTT-facing code: the device contract at the edge, the listener, the simulator and broker set-up."""
