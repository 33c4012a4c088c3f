"""The minimal data's command line: load it (core/seeds/minimal.py) and print the report.

Idempotent, like the seed itself; the bot loads the same data with SEED_DATA=minimal.

    python -m scripts.seed_minimal      # MONGO_URI (default mongomock://), MONGO_DB_NAME
"""

from __future__ import annotations

from core.seeds.minimal import seed_minimal
from scripts.seeding import run_seed_cli


def main() -> None:
    run_seed_cli(seed_minimal)


if __name__ == "__main__":
    main()
