"""`make train-local`: run the pipeline's step scripts on the sample data, here, and print what they found.

The same code SageMaker runs: preprocess -> bias report -> train (early stopping) -> evaluate, which gets the
model as SageMaker hands it over: the training job's model directory packed as ``model.tar.gz``. Outputs land
in ``build/local-run`` (or the directory given) so a learner can open every intermediate file. This runs on
the project venv's libraries; ``make test`` also runs each script on its container's (tests/test_container_parity.py).
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
from pathlib import Path

from pipelines.data.generate import SAMPLE
from pipelines.steps import bias, evaluate, preprocess, train


def package_model(model_dir: Path, archive: Path) -> Path:
    """Pack a training job's model directory as SageMaker does for ``S3ModelArtifacts``: a gzipped tar whose
    member names are relative to the directory (``xgboost-model``, not ``/opt/ml/model/xgboost-model``)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return archive


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
            "--preprocessing",
            str(out / "preprocessing"),
            "--model-dir",
            str(root / "model"),
            "--output-data-dir",
            str(root / "output"),
            "--checkpoint-dir",
            str(root / "checkpoints"),
        ]
    )
    package_model(root / "model", root / "model-artifacts" / "model.tar.gz")
    evaluate.main(
        [
            "--model-dir",
            str(root / "model-artifacts"),
            "--test-dir",
            str(out / "test"),
            "--output-dir",
            str(root / "evaluation"),
        ]
    )
    print(
        f"outputs: {root}/ (processing/, bias/report.json, model/xgboost-model, model-artifacts/model.tar.gz, "
        "evaluation/evaluation.json)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
