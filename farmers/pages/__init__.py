"""Field officers' pages (``/campo/``): server-rendered, mobile-first, Spanish, offline-capable.

Other apps extend them without farmers importing them (see ``registry.py``): household panels,
household actions and extra pages are registered from their ``AppConfig.ready()``.
"""
