"""`python -m infra.ops.reference [--check]`: rewrite (or check) the reference pages' generated blocks."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from infra.ops.cli.common import project_dir
from infra.ops.reference import stale_pages
from infra.ops.reference.sources import Sources


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page is stale")
    args = parser.parse_args(argv)
    # Synth's warnings (secrets not set) are about deploying, not about the pages.
    logging.disable(logging.WARNING)
    stale = stale_pages(Sources(project_dir()))
    for path, text in stale.items():
        if args.check:
            print(f"{path}: stale; run python -m infra.ops.reference", file=sys.stderr)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
