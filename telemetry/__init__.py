"""The MQTT adapter: the listener, the simulator, the broker's files and accounts, and the chain's bridges (the
device contract itself, topics and payloads, is domain code in `shared/equipment`)."""
