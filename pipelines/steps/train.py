"""Training step (exam 2.2): XGBoost with early stopping, run by SageMaker's XGBoost 3.0-5 container
in script mode (and in-process by the tests, with ``xgboost-cpu==3.0.5``).

Channels ``train`` and ``validation`` hold CSV with the label first and no header; ``preprocessing`` holds
``preprocessing.json``, the transform's parameters the preprocess step fitted. Hyperparameters arrive as
command-line flags from the pipeline's parameters. The model directory (what SageMaker packs into
``model.tar.gz``) receives one self-contained serving artifact:

- ``xgboost-model``: the booster;
- ``preprocessing.json``: the fitted transform parameters, exactly as the booster's training data saw them;
- ``model.json``: the artifact's identity (a digest of the two files above), returned with every prediction;
- ``code/serve.py`` and ``code/features.py``: the serving handlers and the transform, copied from beside this
  script (the training job's source directory holds all three files).

With managed spot training, progress is checkpointed to ``/opt/ml/checkpoints`` every
``--checkpoint-interval`` rounds and resumed after an interruption.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"
CHECKPOINT_FILE = "xgboost-checkpoint.json"
PREPROCESSING_FILE = "preprocessing.json"
IDENTITY_FILE = "model.json"
SERVING_CODE = ("serve.py", "features.py")  # the serving handlers and the transform they import


def load_csv(channel: Path) -> xgb.DMatrix:
    files = sorted(channel.glob("*.csv"))
    if not files:
        raise SystemExit(f"train: no CSV files in channel {channel}")
    data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


class Checkpoint(xgb.callback.TrainingCallback):
    """Save the booster every ``interval`` rounds so an interrupted spot job resumes, not restarts."""

    def __init__(self, directory: Path, interval: int) -> None:
        self.path = directory / CHECKPOINT_FILE
        self.interval = interval

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict[str, Any]) -> bool:
        if (epoch + 1) % self.interval == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            model.save_model(self.path)
        return False


def train(args: argparse.Namespace) -> xgb.Booster:
    if not (args.preprocessing / PREPROCESSING_FILE).is_file():  # before any training time is spent
        raise SystemExit(f"train: no {PREPROCESSING_FILE} in channel {args.preprocessing}")
    dtrain, dvalid = load_csv(args.train), load_csv(args.validation)
    params = {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "min_child_weight": args.min_child_weight,
        "seed": args.seed,
        "tree_method": "hist",
        "nthread": args.threads,
    }
    resume = args.checkpoint_dir / CHECKPOINT_FILE
    previous = xgb.Booster(model_file=str(resume)) if resume.exists() else None
    done = previous.num_boosted_rounds() if previous is not None else 0
    callbacks = [Checkpoint(args.checkpoint_dir, args.checkpoint_interval)] if args.checkpoint_interval else []
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=max(args.num_round - done, 1),
        evals=[(dtrain, "train"), (dvalid, "validation")],
        early_stopping_rounds=args.early_stopping_rounds,
        xgb_model=previous,
        callbacks=callbacks,
        verbose_eval=10,
    )
    # The tuner reads this line (metric regex ``validation-auc:([0-9.]+)``).
    print(f"best_iteration={booster.best_iteration} validation-auc:{booster.best_score:.6f}")
    args.model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(args.model_dir / MODEL_FILE)
    pack_serving(args.model_dir, args.preprocessing)
    args.output_data_dir.mkdir(parents=True, exist_ok=True)
    (args.output_data_dir / "training.json").write_text(
        json.dumps(
            {"best_iteration": booster.best_iteration, "validation_auc": booster.best_score, "params": params}, indent=2
        )
    )
    return booster


def pack_serving(model_dir: Path, preprocessing: Path) -> None:
    """Make the model directory one serving artifact: the transform's parameters, the code that applies them
    and the artifact's identity next to the booster (the module docstring lists the files)."""
    shutil.copyfile(preprocessing / PREPROCESSING_FILE, model_dir / PREPROCESSING_FILE)
    digest = hashlib.sha256()
    for name in (MODEL_FILE, PREPROCESSING_FILE):
        digest.update((model_dir / name).read_bytes())
    (model_dir / IDENTITY_FILE).write_text(json.dumps({"model_id": f"sha256:{digest.hexdigest()[:16]}"}) + "\n")
    code = model_dir / "code"
    code.mkdir(exist_ok=True)
    for name in SERVING_CODE:
        shutil.copyfile(Path(__file__).resolve().parent / name, code / name)


def parse(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description="Train an XGBoost binary classifier with early stopping")
    parser.add_argument("--train", type=Path, default=Path(env.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")))
    parser.add_argument(
        "--validation", type=Path, default=Path(env.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    )
    parser.add_argument(
        "--preprocessing",
        type=Path,
        default=Path(env.get("SM_CHANNEL_PREPROCESSING", "/opt/ml/input/data/preprocessing")),
    )
    parser.add_argument("--model-dir", type=Path, default=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument(
        "--output-data-dir", type=Path, default=Path(env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    )
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("/opt/ml/checkpoints"))
    parser.add_argument("--checkpoint-interval", type=int, default=10, help="rounds between checkpoints; 0: off")
    parser.add_argument("--max-depth", "--max_depth", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--subsample", type=float, default=0.9)
    parser.add_argument("--min-child-weight", "--min_child_weight", type=float, default=1.0)
    parser.add_argument("--num-round", "--num_round", type=int, default=300)
    parser.add_argument("--early-stopping-rounds", "--early_stopping_rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    train(parse(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
