"""Live events: the domain events, and where they go (Web PubSub groups, Event Grid or local webhooks)."""
