"""Buyers, market-access contracts, deliveries and payments."""
