"""The external gates over synthesized templates, as the test session and ``make bench`` run them: checkov,
cfn-lint and AWS Control Tower's proactive controls (cfn-guard), once over every distinct template."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from tools.control_tower import guard_command

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def copy_distinct(templates: Iterable[tuple[str, Path]], folder: Path) -> list[Path]:
    """Copy each template of ``templates`` ((label, path) pairs) into ``folder`` as ``<label>.template.json``,
    skipping any whose text an earlier one had (many stacks are identical across builds); the copies, sorted."""
    seen: set[str] = set()
    for label, path in templates:
        text = path.read_text()
        if text not in seen:
            seen.add(text)
            (folder / f"{label}.template.json").write_text(text)
    return sorted(folder.glob("*.template.json"))


def gate_commands(folder: Path, templates: list[Path]) -> dict[str, list[str] | None]:
    """Each gate's command line over ``templates`` (all in ``folder``), JSON on stdout; None: nothing to run."""
    return {
        "checkov": [str(CHECKOV), "-d", str(folder), "--framework", "cloudformation", "--skip-download", "-o", "json"],
        "cfn-lint": [str(CFN_LINT), "--format", "json", *map(str, templates)],
        "control-tower": guard_command(templates),
    }
