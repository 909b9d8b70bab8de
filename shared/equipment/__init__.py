"""The therapy gym's equipment: the state machine, the device contract (topics and payloads), ingest of
device messages, stations and their provisioning, staff station actions, the cleaning queue, usage, labels,
dead letters and replay."""
