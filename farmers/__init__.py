"""Farmer households, members, plots, agreements, visits, support and the transition engine."""
