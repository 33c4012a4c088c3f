"""Pydantic models of every entity of the domain."""
