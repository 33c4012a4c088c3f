"""The rules of SPEC §3 as plain functions over domain models."""
