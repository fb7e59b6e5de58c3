"""Turn the MLA-C01 exam guide (Markdown) into the committed data file config/data/exam_guide.json.

The platform validates the exam task ids that components record against this file, and the
coverage report lists every task statement and skill from it. Run it again only when the guide
changes: ``python -m tools.import_exam_guide ../shared/seed/mla-c01-exam-guide.md``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "config" / "data" / "exam_guide.json"
_DOMAIN = re.compile(r"^###\s+(\d)\.\s+(.+?):\s+(\d+)% of the Exam")
_TASK = re.compile(r"^####\s+(\d\.\d):?\s+(.+?)\.?\s*$")


def parse(text: str) -> dict[str, object]:
    """Domains, task statements, and each task's knowledge and skill bullets, in guide order."""
    domains: dict[str, dict[str, object]] = {}
    tasks: dict[str, dict[str, object]] = {}
    task: dict[str, list[str]] | None = None
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if m := _DOMAIN.match(line):
            domains[m[1]] = {"title": m[2], "weight_percent": int(m[3])}
            task = None
        elif m := _TASK.match(line):
            task = {"knowledge": [], "skills": []}
            tasks[m[1]] = {"domain": m[1][0], "title": m[2], **task}
        elif line.startswith("Knowledge of"):
            section = "knowledge"
        elif line.startswith("Skills in"):
            section = "skills"
        elif line.startswith("- ") and task is not None and section:
            task[section].append(line[2:].strip())
    return {
        "source": "AWS Certified Machine Learning Engineer - Associate (MLA-C01) exam guide",
        "domains": domains,
        "tasks": tasks,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.import_exam_guide PATH/TO/mla-c01-exam-guide.md", file=sys.stderr)
        return 2
    data = parse(Path(argv[0]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data['tasks'])} task statements)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
