"""Settings split per cookiecutter-django: base, local, production, test."""
