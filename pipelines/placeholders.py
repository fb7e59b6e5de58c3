"""The pipeline definitions' stand-in values and names: everything synth-time code reads of them.

The SageMaker SDK needs concrete values where the stacks have CloudFormation references (role, key,
buckets, subnets, security group, code locations, region, feature group, model package group), so
``pipelines.builders`` writes the stand-ins below into ``pipelines/definitions/*.json`` and at synth time
``components.ml.pipeline.render_definition`` replaces each with the real reference. An unreplaced stand-in
stops synth; the word "placeholder" in most of them is what it looks for.

Components, config validation, tests and tools import this module, so it imports nothing heavy: no
``sagemaker``, no ``boto3``. Synth reads the committed JSON and never loads the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ARTIFACTS",
    "BASELINE_PREFIX",
    "BATCH",
    "CODE",
    "DEFINITIONS",
    "DRIFT",
    "DRIFT_SCRIPTS",
    "ENDPOINT",
    "FACET",
    "FACET_VALUE",
    "FAVOURABLE",
    "FEATURE_GROUP",
    "FEATURE_SCHEMA",
    "IMPORTS",
    "KEY",
    "LABEL",
    "MODEL_PACKAGE_GROUP",
    "PACKAGE_MODEL_DATA",
    "RAW",
    "REGION",
    "ROLE",
    "SCRIPTS",
    "SECURITY_GROUP",
    "SERVING_INSTANCE_TYPES",
    "SKLEARN_VERSION",
    "STEPS",
    "SUBNET",
    "TRAINING_FILES",
    "TRAINING_SOURCE",
    "VARIANTS",
    "XGBOOST_VERSION",
    "Variant",
]

# --- the committed files -----------------------------------------------------------------------------

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
FEATURE_SCHEMA = Path(__file__).resolve().parent / "feature_schema.json"
STEPS = Path(__file__).resolve().parent / "steps"  # the step scripts, each uploaded as its own asset (with IMPORTS)


@dataclass(frozen=True)
class Variant:
    """A training definition variant: the SDK fixes these at build time, so each is its own committed file."""

    tuning: bool
    spot: bool

    @property
    def name(self) -> str:
        return ("tune" if self.tuning else "train") + ("-spot" if self.spot else "")


VARIANTS = tuple(Variant(tuning, spot) for tuning in (False, True) for spot in (False, True))
BATCH = "batch"  # the batch-scoring definition's file name (definitions/batch.json)
DRIFT = "drift"  # the drift-monitoring definition (definitions/drift.json)

# --- stand-ins the stacks replace ------------------------------------------------------------------------

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/placeholder-pipeline-role"
KEY = "arn:aws:kms:us-east-1:111122223333:key/placeholder-kms-key"
ARTIFACTS = "placeholder-artifacts-bucket"
RAW = "placeholder-raw-bucket"
CODE = "placeholder-code-bucket"
SUBNET = "subnet-placeholder"
SECURITY_GROUP = "sg-placeholder"
FEATURE_GROUP = "placeholder-feature-group"
MODEL_PACKAGE_GROUP = "placeholder-model-package-group"
ENDPOINT = "placeholder-endpoint"
TRAINING_SOURCE = f"s3://{CODE}/sourcedir.tar.gz"
# The batch model is built from a plain Model with this stand-in model data, then pointed at the
# ModelPackageArn parameter; the builder fails if it is still in the definition.
PACKAGE_MODEL_DATA = "placeholder-model-data/model.tar.gz"

# --- values the definitions hold as they are -----------------------------------------------------------

SCRIPTS = ("preprocess.py", "bias.py", "ingest_features.py", "evaluate.py")  # the training definitions' code
DRIFT_SCRIPTS = ("drift.py",)
# The modules a step script imports from beside it. Synth packs each such script with them into one runnable
# zip (components/ml/pipeline.py step_script), so preprocessing and drift run the transform serving runs.
IMPORTS = {"preprocess.py": ("features.py",), "drift.py": ("features.py",)}
# The training job's source directory: train.py packs serve.py and features.py into the model it saves.
TRAINING_FILES = ("train.py", "serve.py", "features.py")
BASELINE_PREFIX = "monitoring/baseline"  # the latest training run's baseline, read by the drift job
# Every instance type a profile may serve or batch-score a registered version on (config validation reads
# this: inference.instance_type must be one of them).
SERVING_INSTANCE_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.large", "ml.c5.xlarge")
XGBOOST_VERSION = "3.0-5"
# The processing image (preprocess, bias, ingest_features, drift): scikit-learn 1.4-2 (Python 3.10,
# pandas 2.3.2). 1.2-1 has pandas 1.1.3 on Python 3.9; config/data/containers.yaml has each image's
# versions and their source, and `make test` runs every script on them (tests/test_container_parity.py).
SKLEARN_VERSION = "1.4-2"
FACET, FACET_VALUE, LABEL, FAVOURABLE = "sex", "female", "default", "0"  # the bias report's facet and label
