"""Land-title applications and their workflow."""
