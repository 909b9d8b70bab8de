"""The domain: configuration, the store, equipment state and the services that the adapters call."""
