"""Off-the-shelf devices on the board: Shelly and Tasmota plugs, Zigbee2MQTT sensors and buttons, ESPHome nodes.

Their native MQTT dialects are parsed into readings (`dialects`, `readings`), a binding says which station a
device feeds and how (`bindings`), and the inference turns readings into the device contract's events with
deterministic ids (`inference`), so that ingest stays one exactly-once path. Pure rules here; the MQTT side is
`telemetry/native_adapter.py`.
"""
