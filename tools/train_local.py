"""`make train-local`: run the pipeline's step scripts on the sample data, here, and print what they found.

The same code SageMaker runs: preprocess -> bias report -> train (early stopping) -> evaluate. Outputs land
in ``build/local-run`` (or the directory given) so a learner can open every intermediate file.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from pipelines.data.generate import SAMPLE
from pipelines.steps import bias, evaluate, preprocess, train


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "build/local-run")
    shutil.rmtree(root, ignore_errors=True)
    (root / "input").mkdir(parents=True)
    shutil.copy(SAMPLE, root / "input" / SAMPLE.name)
    out = root / "processing"
    print("preprocess:", json.dumps(preprocess.run(root / "input", out)))
    bias.main(["--input-dir", str(out / "bias"), "--output-dir", str(root / "bias")])
    train.main(
        [
            "--train",
            str(out / "train"),
            "--validation",
            str(out / "validation"),
            "--model-dir",
            str(root / "model"),
            "--output-data-dir",
            str(root / "output"),
            "--checkpoint-dir",
            str(root / "checkpoints"),
        ]
    )
    evaluate.main(
        ["--model-dir", str(root / "model"), "--test-dir", str(out / "test"), "--output-dir", str(root / "evaluation")]
    )
    print(f"outputs: {root}/ (processing/, bias/report.json, model/xgboost-model, evaluation/evaluation.json)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
