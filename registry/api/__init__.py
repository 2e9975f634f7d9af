"""API plumbing shared by every app: authentication, scopes, errors, pagination, ETags, schema."""
