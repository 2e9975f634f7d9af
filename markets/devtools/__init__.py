"""Development tools of the markets app, kept apart from its runtime modules: the demo data
(``demo``), the benchmark seeder (``seeding``) and the deliveries-list benchmark
(``benchmark``). The management commands are thin wrappers around them."""
