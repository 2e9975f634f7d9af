"""Developer tools kept apart from the runtime code: benchmark seeders, the demo data and the
benchmarks' bodies (the management commands in ``farmers/management/commands/`` wrap them)."""
