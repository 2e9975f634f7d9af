"""Development and benchmark tools of the titles app, apart from its runtime code: the demo
files (``demo``), the bulk seeder (``seeding``) and the overdue-queue benchmark (``benchmark``).
The management commands ``seed_titles`` and ``benchmark_titles`` are thin wrappers over them."""
