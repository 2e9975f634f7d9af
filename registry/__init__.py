"""The registry kernel: geography, organizations, programmes, roles, API keys and API plumbing."""
