"""Seed data the product owns: the demo data set and the minimal one (SPEC §7).

They write through the core's repository ports only, so any storage serves: the running
bot loads them with SEED_DATA (bot/runtime.py), and scripts/seed_*.py are their command
lines.
"""
