"""``python -m pipelines.builders [--check]``: rewrite the committed definitions, or report the stale ones."""

from __future__ import annotations

import logging
import sys
import warnings

from pipelines.placeholders import DEFINITIONS

ROOT = DEFINITIONS.parent.parent


def main(argv: list[str]) -> int:
    """Rewrite every generated file; with ``--check``, write nothing and exit 1 naming each stale file."""
    # Before the SDK loads: its config-file notices at import, deprecation and "popping out job name" notices.
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore", module="sagemaker")
    from pipelines.builders.files import outputs, stale  # noqa: PLC0415 - loads the SDK, after the line above

    files = outputs()
    if "--check" in argv:
        behind = stale(files)
        for path in behind:
            print(f"stale: {path.relative_to(ROOT)} (run `make pipeline`)", file=sys.stderr)
        return 1 if behind else 0
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
