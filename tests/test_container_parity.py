"""Container parity: every step script runs, as a subprocess, on the Python minor version and the exact
library versions of the SageMaker image that runs it on AWS, and that table agrees with the pipelines.

``config/data/containers.yaml`` records each image's versions with their source; ``make image-envs``
(a prerequisite of ``make unit``) builds ``.venv-image-<name>`` from ``requirements-image-<name>.txt``
with the pyenv interpreter of that minor version. The chain below is the committed training definition
(``pipelines/definitions/train.json``) run locally: each job gets the entrypoint, arguments, inputs and
outputs the definition gives it, with ``/opt/ml`` mapped into a temporary folder, and the training job's
model directory reaches Evaluate as the ``model.tar.gz`` SageMaker makes of it. Drift runs the same way
from ``drift.json`` on traffic captured from the trained model. A missing venv fails (CI builds it).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
import yaml
from sklearn.metrics import roc_auc_score

from components.ml.pipeline import _StepFiles
from pipelines import placeholders
from pipelines.data.generate import SAMPLE
from pipelines.steps import features, preprocess
from tools.train_local import package_model

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "config" / "data" / "containers.yaml"
STEPS = ROOT / "pipelines" / "steps"
IMAGES: dict[str, dict[str, Any]] = yaml.safe_load(TABLE.read_text())["images"]
# An ECR image in any partition: capture "repository:tag".
IMAGE_URI = re.compile(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([a-z0-9-]+:[A-Za-z0-9._-]+)")
OPT_ML = "/opt/ml"
# Fail on what the next library version removes, in the scripts and in how they call the libraries.
PYTHON_FLAGS = ["-W", "error::FutureWarning", "-W", "error::DeprecationWarning"]
TIMEOUT = 120
NO_IMAGE = cdk.DockerImage.from_registry("none")
# Serves requests the way the XGBoost container does in script mode: the user module from the model's code/
# folder (SAGEMAKER_SUBMIT_DIRECTORY), model_fn once, then input_fn -> predict_fn -> output_fn per request.
SERVE_DRIVER = """
import json, sys
model_dir, requests, answers = sys.argv[1:4]
sys.path.insert(0, model_dir + "/code")
import serve
model = serve.model_fn(model_dir)
with open(requests) as source, open(answers, "w") as sink:
    for line in source:
        body, content_type = serve.output_fn(serve.predict_fn(serve.input_fn(line, "application/json"), model), None)
        sink.write(json.dumps({"body": body, "content_type": content_type}) + "\\n")
"""
STUB_BOTO3 = '''"""boto3 stand-in for the parity test: the Feature Store runtime client logs each put_record call
(the first one is throttled, so the script's retry runs too)."""
import json
import os

_calls = []


class _Throttled(Exception):
    response = {"Error": {"Code": "ThrottlingException"}}


class _FeatureStoreRuntime:
    def put_record(self, **kwargs):
        _calls.append(kwargs)
        if len(_calls) == 1:
            raise _Throttled("ThrottlingException")
        with open(os.environ["STUB_PUT_RECORD_LOG"], "a") as log:
            log.write(json.dumps(kwargs) + "\\n")


def client(service_name, **kwargs):
    if service_name != "sagemaker-featurestore-runtime":
        raise ValueError(service_name)
    return _FeatureStoreRuntime()
'''


def image_key(uri: str) -> str:
    match = IMAGE_URI.fullmatch(uri)
    assert match, uri
    keys = [key for key, image in IMAGES.items() if f"{image['repository']}:{image['tag']}" == match.group(1)]
    assert keys, f"{match.group(1)} is not in {TABLE.relative_to(ROOT)}"
    return keys[0]


def venv_python(image: str) -> Path:
    python = ROOT / f".venv-image-{image}" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python.parent.parent.name} is missing: run `make image-envs` (make unit does it first)")
    return python


def definition_steps(name: str) -> dict[str, dict[str, Any]]:
    body = json.loads((placeholders.DEFINITIONS / f"{name}.json").read_text())
    steps = {}
    pending = list(body["Steps"])
    while pending:
        step = pending.pop(0)
        steps[step["Name"]] = step
        pending += step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", [])
    return steps


def defaults(name: str) -> dict[str, Any]:
    body = json.loads((placeholders.DEFINITIONS / f"{name}.json").read_text())
    return {p["Name"]: p.get("DefaultValue") for p in body["Parameters"]}


@dataclass
class Job:
    name: str
    command: list[str]
    env: dict[str, str]
    home: Path  # what the job sees as /opt/ml
    packs_model: bool = False  # a training job: SageMaker packs /opt/ml/model into model.tar.gz
    result: subprocess.CompletedProcess[str] | None = None

    def local(self, container_path: str) -> Path:
        assert container_path.startswith(OPT_ML), container_path
        return self.home / container_path[len(OPT_ML) :].lstrip("/")

    def check(self) -> subprocess.CompletedProcess[str]:
        assert self.result is not None, self.name
        assert self.result.returncode == 0, (self.name, self.result.stdout[-2000:], self.result.stderr[-4000:])
        return self.result


class LocalPipeline:
    """Runs definition steps as local subprocesses; ``sources`` maps each ``Get`` reference to a folder."""

    def __init__(self, root: Path, parameters: dict[str, Any]) -> None:
        self.root = root
        self.parameters = parameters
        self.sources: dict[str, Path] = {}

    def value(self, value: Any) -> str:
        if isinstance(value, dict) and "Get" in value and value["Get"].startswith("Parameters."):
            return str(self.parameters[value["Get"].removeprefix("Parameters.")])
        if isinstance(value, dict) and "Std:Join" in value:
            join = value["Std:Join"]
            return str(join["On"]).join(self.value(v) for v in join["Values"])
        assert isinstance(value, str), value
        return value

    def stage(self, source: Any, target: Path) -> None:
        """Copy what an S3 input would stage: a code file, a parameter's data, or an earlier step's output."""
        target.mkdir(parents=True, exist_ok=True)
        if isinstance(source, str) and source.startswith(f"s3://{placeholders.CODE}/"):
            name = source.rsplit("/", 1)[1]
            if name in placeholders.IMPORTS:  # as synth uploads it: a zip application of it and its modules
                with tempfile.TemporaryDirectory() as folder:
                    _StepFiles([name, *placeholders.IMPORTS[name]], "zipapp").try_bundle(folder, image=NO_IMAGE)
                    shutil.copyfile(Path(folder) / (name.removesuffix(".py") + ".pyz"), target / name)
            else:
                shutil.copy(STEPS / name, target)
            return
        origin = self.sources[source["Get"]]
        if origin.is_file():
            shutil.copy(origin, target)
        else:
            shutil.copytree(origin, target, dirs_exist_ok=True)

    def processing(self, step: dict[str, Any], env: dict[str, str] | None = None, name: str | None = None) -> Job:
        args = step["Arguments"]
        app = args["AppSpecification"]
        name = name or step["Name"]
        job = Job(name, [], {**base_env(), **(env or {})}, self.root / name / "opt" / "ml")
        for item in args["ProcessingInputs"]:
            self.stage(item["S3Input"]["S3Uri"], job.local(item["S3Input"]["LocalPath"]))
        for output in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
            local = job.local(output["S3Output"]["LocalPath"])
            self.sources[f"Steps.{name}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"] = (
                local
            )
        entrypoint = app["ContainerEntrypoint"]
        assert entrypoint[0] == "python3", entrypoint
        script = job.local(entrypoint[1])
        job.command = [str(venv_python(image_key(app["ImageUri"]))), *PYTHON_FLAGS, str(script)]
        job.command += [self.map_path(job, self.value(a)) for a in app.get("ContainerArguments", [])]
        return job

    def training(self, step: dict[str, Any]) -> Job:
        """Script mode, as the XGBoost container runs it: channels as SM_CHANNEL_*, hyperparameters as flags."""
        args = step["Arguments"]
        job = Job(step["Name"], [], base_env(), self.root / step["Name"] / "opt" / "ml", packs_model=True)
        hyperparameters = args["HyperParameters"]
        program = json.loads(hyperparameters["sagemaker_program"])
        code = job.local(f"{OPT_ML}/code")
        code.mkdir(parents=True)
        assert program in placeholders.TRAINING_FILES
        for name in placeholders.TRAINING_FILES:  # the sourcedir.tar.gz synth uploads, extracted
            shutil.copy(STEPS / name, code)
        for channel in args["InputDataConfig"]:
            local = job.local(f"{OPT_ML}/input/data/{channel['ChannelName']}")
            self.stage(channel["DataSource"]["S3DataSource"]["S3Uri"], local)
            job.env[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(local)
        job.env["SM_MODEL_DIR"] = str(job.local(f"{OPT_ML}/model"))
        job.env["SM_OUTPUT_DATA_DIR"] = str(job.local(f"{OPT_ML}/output/data"))
        flags = [
            item
            for key, value in sorted(hyperparameters.items())
            if not key.startswith("sagemaker_")
            for item in (f"--{key}", self.value(value))
        ]
        image = image_key(args["AlgorithmSpecification"]["TrainingImage"])
        job.command = [str(venv_python(image)), *PYTHON_FLAGS, str(code / program), *flags]
        # /opt/ml/checkpoints is the script's default; here it must stay inside the job's folder.
        job.command += ["--checkpoint-dir", str(job.local(f"{OPT_ML}/checkpoints"))]
        # What SageMaker uploads to S3ModelArtifacts: the model directory, packed (see run()).
        self.sources[f"Steps.{step['Name']}.ModelArtifacts.S3ModelArtifacts"] = job.home / "model.tar.gz"
        return job

    @staticmethod
    def map_path(job: Job, argument: str) -> str:
        return str(job.local(argument)) if argument.startswith(OPT_ML) else argument

    def run(self, *jobs: Job) -> None:
        """Run ``jobs`` in parallel (they are independent), each in its own working directory."""
        running = []
        for job in jobs:
            job.home.mkdir(parents=True, exist_ok=True)
            out, err = (job.home.parent / "stdout").open("w"), (job.home.parent / "stderr").open("w")
            running.append(
                (job, subprocess.Popen(job.command, cwd=job.home.parent, env=job.env, stdout=out, stderr=err))
            )
            out.close()
            err.close()
        for job, process in running:
            try:
                code = process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                for _, other in running:
                    other.kill()
                raise
            job.result = subprocess.CompletedProcess(
                job.command,
                code,
                (job.home.parent / "stdout").read_text(),
                (job.home.parent / "stderr").read_text(),
            )
            if job.packs_model and code == 0:
                package_model(job.home / "model", job.home / "model.tar.gz")


def base_env() -> dict[str, str]:
    """A clean environment like the container's: no project on the path, nothing from this venv."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),
        # Idle OpenMP threads sleep instead of spinning: on two shared cores spinning doubles xgboost's CPU
        # time. Scheduling only; the model is byte-identical.
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def raw_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in json.loads(frame.drop(columns=[features.LABEL]).to_json(orient="records"))
    ]


def serve_in_image(model_dir: Path, requests: list[str], folder: Path) -> list[dict[str, str]]:
    """Each request body answered by the model's own serving code in the XGBoost image's Python."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requests.jsonl").write_text("".join(r + "\n" for r in requests))
    subprocess.run(
        [
            str(venv_python("xgboost")),
            *PYTHON_FLAGS,
            "-c",
            SERVE_DRIVER,
            str(model_dir),
            *(str(folder / n) for n in ("requests.jsonl", "answers.jsonl")),
        ],
        env=base_env(),
        check=True,
        timeout=TIMEOUT,
        cwd=folder,
    )
    return [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]


def write_capture(folder: Path, requests: list[str], answers: list[dict[str, str]]) -> Path:
    """SageMaker data capture (JSON Lines) of raw JSON requests and the model's answers; one request BASE64."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for index, (request, answer) in enumerate(zip(requests, answers, strict=True)):
        payload, reply = request, answer["body"]
        encoding = "BASE64" if index == 0 else "JSON"
        if encoding == "BASE64":
            payload, reply = (base64.b64encode(s.encode()).decode() for s in (payload, reply))
        capture = {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT", "data": payload},
            "endpointOutput": {"observedContentType": answer["content_type"], "mode": "OUTPUT", "data": reply},
        }
        for record in capture.values():
            record["encoding"] = encoding
        event = {"eventId": str(index), "inferenceTime": "2026-11-29T00:00:00Z"}
        lines.append(json.dumps({"captureData": capture, "eventMetadata": event, "eventVersion": "0"}))
    (folder / "endpoint-capture.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The training pipeline, then drift on unshifted and shifted traffic: once for the module (~6 s idle)."""
    root = tmp_path_factory.mktemp("parity")
    raw = root / "s3" / "raw"
    raw.mkdir(parents=True)
    shutil.copy(SAMPLE, raw)
    stubs = root / "stubs" / "boto3"
    stubs.mkdir(parents=True)
    (stubs / "__init__.py").write_text(STUB_BOTO3)
    put_log = root / "put_record.jsonl"

    steps = definition_steps("train")
    pipeline = LocalPipeline(root, defaults("train"))
    pipeline.sources["Parameters.InputDataUri"] = raw
    jobs = {"Preprocess": pipeline.processing(steps["Preprocess"])}
    pipeline.run(jobs["Preprocess"])
    jobs["Preprocess"].check()  # every later job reads its outputs
    stub_env = {"PYTHONPATH": str(stubs.parent), "STUB_PUT_RECORD_LOG": str(put_log)}
    jobs["BiasReport"] = pipeline.processing(steps["BiasReport"])
    jobs["IngestFeatures"] = pipeline.processing(steps["IngestFeatures"], env=stub_env)
    jobs["Train"] = pipeline.training(steps["Train"])
    pipeline.run(jobs["BiasReport"], jobs["IngestFeatures"], jobs["Train"])
    jobs["Train"].check()  # Evaluate and the captured traffic need the model

    # Traffic the endpoint would capture: the test split's raw records, answered by the trained model's own
    # serving code (model_fn, input_fn, predict_fn, output_fn) in the XGBoost image's Python and libraries.
    test = np.loadtxt(jobs["Preprocess"].local(f"{OPT_ML}/processing/test") / "test.csv", delimiter=",", ndmin=2)
    booster = xgb.Booster(model_file=str(jobs["Train"].local(f"{OPT_ML}/model/xgboost-model")))
    scores = booster.predict(xgb.DMatrix(test[:, 1:]))
    _, _, test_rows = preprocess.stratified_split(preprocess.deduplicate(pd.read_csv(SAMPLE)), 42)
    shifted_rows = test_rows.copy()
    shifted_rows["income"] *= 0.3
    shifted_rows["debt_to_income"] += 0.3
    model_dir = jobs["Train"].local(f"{OPT_ML}/model")
    requests, shifted = (
        [json.dumps(raw_records(rows.iloc[i : i + 4])) for i in range(0, len(rows), 4)]
        for rows in (test_rows, shifted_rows)
    )
    answers = serve_in_image(model_dir, requests, root / "serving-steady")
    shifted_answers = serve_in_image(model_dir, shifted, root / "serving-shifted")
    (drift_step,) = definition_steps(placeholders.DRIFT).values()
    drift = LocalPipeline(root, defaults(placeholders.DRIFT))
    drift.sources["Parameters.BaselineUri"] = pipeline.sources[
        "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    ]
    drift.sources["Parameters.CaptureUri"] = write_capture(root / "s3" / "capture-steady", requests, answers)
    jobs["DriftSteady"] = drift.processing(drift_step, name="DriftSteady")
    drift.sources["Parameters.CaptureUri"] = write_capture(root / "s3" / "capture-shifted", shifted, shifted_answers)
    jobs["DriftShifted"] = drift.processing(drift_step, name="DriftShifted")
    jobs["Evaluate"] = pipeline.processing(steps["Evaluate"])
    staged_model = sorted(p.name for p in jobs["Evaluate"].local(f"{OPT_ML}/processing/model").iterdir())
    pipeline.run(jobs["Evaluate"], jobs["DriftSteady"], jobs["DriftShifted"])

    # The same preprocess in this venv (pandas 3), to compare with the container's outputs.
    preprocess.run(raw, root / "in-process", seed=42)
    return {
        "jobs": jobs,
        "test": test,
        "scores": scores,
        "answers": answers,
        "put_log": put_log,
        "staged_model": staged_model,
        "in_process": root / "in-process",
    }


def output(job: Job, path: str) -> Path:
    return job.local(f"{OPT_ML}/processing/{path}")


# --- the table, the definitions, the requirements and the venvs agree ---------------------------------


def test_every_image_in_the_definitions_is_in_the_table_and_runs_its_listed_scripts() -> None:
    seen: dict[str, set[str]] = {}
    for path in sorted(placeholders.DEFINITIONS.glob("*.json")):
        text = path.read_text()
        for uri in set(IMAGE_URI.findall(text)):
            assert any(f"{i['repository']}:{i['tag']}" == uri for i in IMAGES.values()), (path.name, uri)
        for step in definition_steps(path.stem).values():
            args = step.get("Arguments", {})
            if step["Type"] == "Processing":
                image = image_key(args["AppSpecification"]["ImageUri"])
                script = Path(args["AppSpecification"]["ContainerEntrypoint"][-1]).name
            elif step["Type"] in ("Training", "Tuning"):
                job = args["TrainingJobDefinition"] if step["Type"] == "Tuning" else args
                image = image_key(job["AlgorithmSpecification"]["TrainingImage"])
                hyperparameters = job.get("HyperParameters") or job["StaticHyperParameters"]
                script = json.loads(hyperparameters["sagemaker_program"])
            else:
                continue
            assert script in IMAGES[image]["steps"], (path.name, step["Name"], script, image)
            seen.setdefault(image, set()).add(script)
    scripts = {p.name for p in STEPS.glob("*.py")} - {"__init__.py"}
    listed = [s for image in IMAGES.values() for s in (*image["steps"], *image.get("serving", []))]
    modules = {m for image in IMAGES.values() for m in image.get("modules", [])}
    assert set(listed) | modules == scripts and len(listed) == len(set(listed))  # every script, once
    assert {image: set(i["steps"]) for image, i in IMAGES.items()} == seen  # and each runs where listed
    # A module a script imports runs in that script's image, and the training job packs the serving code.
    for script, imported in placeholders.IMPORTS.items():
        (owner,) = [i for i in IMAGES.values() if script in i["steps"]]
        assert set(imported) <= set(owner["modules"]), script
    (xgboost,) = [i for i in IMAGES.values() if "train.py" in i["steps"]]
    assert set(placeholders.TRAINING_FILES) <= {*xgboost["steps"], *xgboost["serving"], *xgboost["modules"]}


def test_the_synth_image_table_names_the_same_images() -> None:
    synth = json.loads((ROOT / "config" / "data" / "sagemaker_images.json").read_text())
    for name, image in IMAGES.items():
        assert (synth[name]["repository"], synth[name]["tag"]) == (image["repository"], image["tag"]), name
        assert synth[name]["version"] == image["framework_version"], name
    assert IMAGES["sklearn"]["framework_version"] == placeholders.SKLEARN_VERSION
    assert IMAGES["xgboost"]["framework_version"] == placeholders.XGBOOST_VERSION


def requirements(image: str) -> tuple[str, dict[str, str]]:
    text = (ROOT / IMAGES[image]["requirements"]).read_text()
    (python,) = re.findall(r"^# python: *(\S+)", text, re.MULTILINE)
    pins = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{IMAGES[image]['requirements']}: {line!r} is not an exact pin"
            pins[name.lower()] = version
    return python, pins


def as_library(distribution: str) -> str:
    return {"xgboost-cpu": "xgboost"}.get(distribution, distribution)


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_requirements_pin_exactly_the_table(image: str) -> None:
    assert sorted(ROOT.glob("requirements-image-*.txt")) == sorted(ROOT / i["requirements"] for i in IMAGES.values())
    python, pins = requirements(image)
    assert python == IMAGES[image]["python"]
    assert {as_library(name): version for name, version in pins.items()} == IMAGES[image]["libraries"]
    assert all(str(v).count(".") == 2 for v in IMAGES[image]["libraries"].values())  # exact versions
    assert {"repo", "ref", "commit", "paths"} <= set(IMAGES[image]["source"])  # and where they come from


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_the_parity_venv_runs_the_image_python_and_libraries(image: str) -> None:
    _, pins = requirements(image)
    probe = (
        "import json, sys, importlib.metadata as m; "
        f"print(json.dumps([list(sys.version_info[:2]), {{d: m.version(d) for d in {sorted(pins)!r}}}]))"
    )
    result = subprocess.run(
        [str(venv_python(image)), "-c", probe], capture_output=True, text=True, env=base_env(), check=True
    )
    (major, minor), installed = json.loads(result.stdout)
    assert f"{major}.{minor}" == IMAGES[image]["python"]
    assert installed == pins


# --- every step script, in its image's environment --------------------------------------------------


def test_preprocess_in_its_image_matches_the_in_process_run(chain: dict[str, Any]) -> None:
    job = chain["jobs"]["Preprocess"]
    counts = json.loads(job.check().stdout.strip().splitlines()[-1])
    raw = pd.read_csv(SAMPLE)
    assert counts["input_rows"] == len(raw) and counts["deduplicated_rows"] == raw["applicant_id"].nunique()
    assert counts["train"] + counts["validation"] + counts["test"] == counts["deduplicated_rows"]
    # What the model, Feature Store and drift read is byte-identical to what pandas 3 writes here.
    for path in (
        "train/train.csv",
        "validation/validation.csv",
        "test/test.csv",
        "features/features.csv",
        "preprocessing/preprocessing.json",
    ):
        assert output(job, path).read_bytes() == (chain["in_process"] / path).read_bytes(), path
    assert (
        output(job, "baseline/baseline.json").read_bytes()
        == (chain["in_process"] / "baseline/baseline.json").read_bytes()
    )
    # The unencoded copy for the bias step: pandas 2's default float parser is off by an ulp on a few values.
    container, here = (pd.read_csv(d / "bias" / "dataset.csv") for d in (output(job, ""), chain["in_process"]))
    pd.testing.assert_frame_equal(container, here, check_exact=False, rtol=1e-12)


def test_bias_report_in_its_image(chain: dict[str, Any]) -> None:
    job = chain["jobs"]["BiasReport"]
    job.check()
    report = json.loads(output(job, "bias/report.json").read_text())
    dataset = pd.read_csv(chain["in_process"] / "bias" / "dataset.csv")
    assert report["counts"]["a"] + report["counts"]["d"] == len(dataset)
    women, men = dataset[dataset["sex"] == "female"], dataset[dataset["sex"] == "male"]
    assert report["metrics"]["CI"] == pytest.approx((len(men) - len(women)) / len(dataset), abs=1e-6)
    assert report["metrics"]["CI"] > 0.1 and report["metrics"]["DPL"] > 0.02


def test_feature_ingestion_in_its_image_puts_every_row(chain: dict[str, Any]) -> None:
    job = chain["jobs"]["IngestFeatures"]
    assert "ingested" in job.check().stdout
    rows = pd.read_csv(output(job, "features/features.csv"))
    calls = [json.loads(line) for line in chain["put_log"].read_text().splitlines()]
    assert len(calls) == len(rows)  # the throttled first call was retried, not lost
    assert {c["FeatureGroupName"] for c in calls} == {placeholders.FEATURE_GROUP}
    assert {f["FeatureName"] for f in calls[0]["Record"]} == set(rows.columns)


def test_training_in_its_image_in_script_mode(chain: dict[str, Any]) -> None:
    job = chain["jobs"]["Train"]
    stdout = job.check().stdout
    tuned = re.findall(r"validation-auc:([0-9.]+)", stdout.splitlines()[-1])  # the tuner's metric regex
    assert tuned and float(tuned[0]) > 0.7
    assert sorted(p.name for p in job.local(f"{OPT_ML}/model").iterdir()) == [
        "code",
        "model.json",
        "preprocessing.json",
        "xgboost-model",
    ]
    training = json.loads(job.local(f"{OPT_ML}/output/data/training.json").read_text())
    assert training["best_iteration"] < 299 and training["params"]["max_depth"] == 5  # early stopping, hp flags
    with tarfile.open(job.home / "model.tar.gz") as tar:
        assert {"xgboost-model", "preprocessing.json", "code/serve.py", "code/features.py"} <= set(tar.getnames())


def test_evaluation_in_its_image_from_model_tar_gz(chain: dict[str, Any]) -> None:
    job = chain["jobs"]["Evaluate"]
    job.check()
    assert chain["staged_model"] == ["model.tar.gz"]  # what the definition's model input receives
    metrics = json.loads(output(job, "evaluation/evaluation.json").read_text())["binary_classification_metrics"]
    assert metrics["auc"]["value"] >= 0.70  # the AUC gate's default; a broken chain lands near 0.5
    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(chain["test"][:, 0], chain["scores"]), abs=1e-6)
    assert metrics["test_rows"] == len(chain["test"])


def test_drift_in_its_image_on_captured_traffic(chain: dict[str, Any]) -> None:
    steady, shifted = chain["jobs"]["DriftSteady"], chain["jobs"]["DriftShifted"]
    steady.check()
    calm = json.loads(output(steady, "report/drift.json").read_text())
    assert calm["status"] == "ok" and calm["records"] == len(chain["test"]) and calm["capture"]["malformed"] == 0
    assert calm["prediction_mean"] == pytest.approx(float(np.mean(chain["scores"])), abs=1e-5)
    stdout = shifted.check().stdout
    moved = json.loads(output(shifted, "report/drift.json").read_text())
    assert moved["status"] == "drift" and {"income", "debt_to_income"} <= set(moved["drifted_features"])
    emf = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert emf[0]["EndpointName"] == placeholders.ENDPOINT and emf[0]["DriftedFeatures"] >= 2


def test_serving_in_its_image_scores_raw_records_as_the_model_scored_its_test_split(chain: dict[str, Any]) -> None:
    """The endpoint's view: raw JSON records through serve.py from the model's own code/ folder, in the XGBoost
    image's Python and libraries, answer the probabilities the booster gives the training transform's rows."""
    answers = chain["answers"]
    assert {a["content_type"] for a in answers} == {"application/json"}
    bodies = [json.loads(a["body"]) for a in answers]
    served = [p for body in bodies for p in body["predictions"]]
    assert served == [round(float(p), 6) for p in chain["scores"]]
    identity = json.loads(chain["jobs"]["Train"].local(f"{OPT_ML}/model/model.json").read_text())
    assert {body["model_id"] for body in bodies} == {identity["model_id"]}
