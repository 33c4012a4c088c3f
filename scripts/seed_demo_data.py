"""The demo data's command line: load it (core/seeds/demo.py) and print the report.

Idempotent, like the seed itself; the bot loads the same data with SEED_DATA=demo.

    python -m scripts.seed_demo_data      # MONGO_URI (default mongomock://), MONGO_DB_NAME
"""

from __future__ import annotations

from core.seeds.demo import seed_demo_data
from scripts.seeding import run_seed_cli


def main() -> None:
    run_seed_cli(seed_demo_data)


if __name__ == "__main__":
    main()
