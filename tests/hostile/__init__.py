"""Hostile-client tests: one person within the documented limits cannot take the class down."""
