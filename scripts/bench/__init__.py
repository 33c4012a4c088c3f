"""scripts/bench."""
