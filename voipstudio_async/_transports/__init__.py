"""The HTTP transports the two backends are built on, and the network settings both share."""
