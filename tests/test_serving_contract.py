"""Serving raw records (issue 12; exam 1.2, 3.1, 3.2): one model version carries its transform through
registration, approval, blue/green and rollback; the API is the published OpenAPI contract; the function reads
online features through the VPC endpoint; capture keeps what the drift job decodes."""

from __future__ import annotations

import importlib
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from components.data.feature_store import schema_version
from components.serving.api import METRICS_NAMESPACE, SERVICE
from config.loader import ConfigError, load_settings
from pipelines import placeholders
from pipelines.builders.steps import SERVING_ENV
from pipelines.steps import features
from tests.helpers import props, resources, statements
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("3.1")
ROOT = Path(__file__).resolve().parent.parent
CONTRACT = json.loads((ROOT / "docs" / "openapi.json").read_text())
API_BUILDS = ("sandbox-serving", "production-serving", "model-monitor-ab", "shadow", "serverless")
TRAINING = [v.name for v in placeholders.VARIANTS]


def definition(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((placeholders.DEFINITIONS / f"{name}.json").read_text())
    return body


def step(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in body["Steps"] if s["Name"] == name]
    for condition in (s for s in body["Steps"] if s["Type"] == "Condition"):
        found += [s for s in condition["Arguments"]["IfSteps"] if s["Name"].startswith(name)]
    assert found, name
    return found[0]


def asset_files(build: Synthesized, stack: str) -> dict[str, Path]:
    """Each file asset of ``stack``: its object key -> the staged file in the cloud assembly."""
    path = build.template_path(stack).with_name(
        build.template_path(stack).name.replace(".template.json", ".assets.json")
    )
    manifest = json.loads(path.read_text())
    return {
        next(iter(entry["destinations"].values()))["objectKey"]: build.outdir / entry["source"]["path"]
        for entry in manifest["files"].values()
        if entry["source"].get("packaging") == "file"
    }


# --- one unit: booster, transform and serving code --------------------------------------------------------


@pytest.mark.parametrize("name", TRAINING)
def test_the_registered_package_is_the_training_artifact_served_by_its_own_code(name: str) -> None:
    body = definition(name)
    register = step(body, "Register")
    (container,) = register["Arguments"]["InferenceSpecification"]["Containers"]  # one container, one artifact
    assert container["Environment"] == SERVING_ENV
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"  # read from the model
    fit = "Tune" if name.startswith("tune") else "Train"
    assert json.dumps(container["ModelDataUrl"]).count(f"Steps.{fit}") == 1
    spec = register["Arguments"]["InferenceSpecification"]
    assert spec["SupportedContentTypes"] == ["application/json", "application/jsonlines"]
    # The fitted transform reaches the training job that packs it into the model it saves.
    job = step(body, fit)["Arguments"]
    channels = (job.get("TrainingJobDefinition") or job)["InputDataConfig"]
    (channel,) = [c for c in channels if c["ChannelName"] == "preprocessing"]
    uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    assert uri == {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['preprocessing'].S3Output.S3Uri"}


@pytest.mark.exam("3.2")
@pytest.mark.parametrize("name", ("sandbox-serving", "model-monitor-ab", "shadow"))
def test_a_variant_is_one_package_so_rollback_restores_model_and_transform_together(
    builds: dict[str, Synthesized], name: str
) -> None:
    """Every model is exactly ``{ModelPackageName}``: no image, artifact or environment of its own that an
    update could pair with another version. A blue/green update swaps the package; its rollback restores the
    previous endpoint configuration, i.e. the previous package (booster, transform and code in one artifact)."""
    build = builds[name]
    template = build.template("Inference")
    for logical, model in resources(template, "AWS::SageMaker::Model").items():
        assert props(model)["PrimaryContainer"] == {
            "ModelPackageName": props(model)["PrimaryContainer"]["ModelPackageName"]
        }
        assert "Containers" not in props(model), logical
    (endpoint,) = resources(template, "AWS::SageMaker::Endpoint").values()
    policy = props(endpoint)["DeploymentConfig"]
    assert policy["AutoRollbackConfiguration"]["Alarms"]  # blue/green rolls back on the variant alarms
    assert "BlueGreenUpdatePolicy" in policy


def test_the_training_job_source_and_the_transform_scripts_ship_the_repository_s_transform(
    builds: dict[str, Synthesized],
) -> None:
    """What synth uploads: the training source holds train.py, serve.py and features.py; Preprocess and the
    drift job are zip applications of their script and the same features.py."""
    build = builds["sandbox-serving"]
    files = {**asset_files(build, "MlPipeline"), **asset_files(build, "Monitoring")}
    (source,) = [path for path in files.values() if path.name.endswith(".tar.gz")]
    with tarfile.open(source) as tar:
        assert sorted(tar.getnames()) == sorted(placeholders.TRAINING_FILES)
        for name in placeholders.TRAINING_FILES:
            member = tar.extractfile(name)
            assert member is not None and member.read() == (placeholders.STEPS / name).read_bytes(), name
    apps = [path for path in files.values() if path.suffix == ".pyz"]
    assert len(apps) == len(placeholders.IMPORTS)
    mains = set()
    for app in apps:
        with zipfile.ZipFile(app) as archive:
            main = archive.read("__main__.py")
            (script,) = [s for s in placeholders.IMPORTS if (placeholders.STEPS / s).read_bytes() == main]
            mains.add(script)
            for module in placeholders.IMPORTS[script]:
                assert archive.read(module) == (placeholders.STEPS / module).read_bytes()
    assert mains == set(placeholders.IMPORTS)
    # and the definitions run them from the code input, as any other script
    pipeline = build.template("MlPipeline")
    (cfn,) = resources(pipeline, "AWS::SageMaker::Pipeline").values()
    text = json.dumps(props(cfn)["PipelineDefinition"])
    preprocess = [key for key, path in files.items() if path.suffix == ".pyz" and key in text]
    assert len(preprocess) == 1


def test_batch_scoring_sends_raw_records_as_json_lines() -> None:
    score = step(definition(placeholders.BATCH), "Score")["Arguments"]
    assert score["TransformInput"]["ContentType"] == "application/jsonlines"
    assert score["TransformInput"]["SplitType"] == "Line"
    assert score["TransformOutput"]["Accept"] == "text/csv"


# --- the API contract ---------------------------------------------------------------------------------------


def api_methods(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) -> the AWS::ApiGateway::Method, paths rebuilt from the resources' PathParts."""
    parts = {logical: props(r) for logical, r in resources(template, "AWS::ApiGateway::Resource").items()}

    def path(parent: Any) -> str:
        if isinstance(parent, dict) and "Ref" in parent and parent["Ref"] in parts:
            node = parts[parent["Ref"]]
            return path(node["ParentId"]) + "/" + str(node["PathPart"])
        return ""  # the API's root resource

    return {
        (path(props(m)["ResourceId"]), props(m)["HttpMethod"].lower()): m
        for m in resources(template, "AWS::ApiGateway::Method").values()
    }


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("name", API_BUILDS)
def test_the_api_has_exactly_the_paths_and_methods_of_the_published_contract(
    builds: dict[str, Synthesized], name: str
) -> None:
    methods = api_methods(builds[name].template("Inference"))
    assert set(methods) == {(path, verb) for path, item in CONTRACT["paths"].items() for verb in item}
    for (path, verb), method in methods.items():
        assert props(method)["AuthorizationType"] == "AWS_IAM", (path, verb)
        assert props(method)["Integration"]["Type"] == "AWS_PROXY"
        declared = {p["name"] for p in CONTRACT["paths"][path][verb].get("parameters", []) if p["in"] == "path"}
        required = {k.rsplit(".", 1)[1] for k, v in props(method).get("RequestParameters", {}).items() if v}
        assert required == declared, (path, verb)
    # the contract itself: IAM-signed; a bad record is a 400, an applicant without stored features a 404
    assert "sigv4" in json.dumps(CONTRACT["components"]["securitySchemes"]).lower()
    assert {"200", "400", "502", "503"} <= set(CONTRACT["paths"]["/predict"]["post"]["responses"])
    assert {"200", "404", "502", "503"} <= set(
        CONTRACT["paths"]["/applicants/{applicant_id}/prediction"]["get"]["responses"]
    )


@pytest.mark.exam("1.2", "4.3")
@pytest.mark.parametrize("name", API_BUILDS)
def test_the_function_reads_online_features_and_names_the_model_that_answered(
    builds: dict[str, Synthesized], name: str
) -> None:
    build = builds[name]
    template = build.template("Inference")
    (function,) = resources(template, "AWS::Lambda::Function").values()
    environment = props(function)["Environment"]["Variables"]
    config = build.config.inference
    packages = json.loads(environment["VARIANT_PACKAGES"])
    expected = {"Primary": config.model_package_arn}
    if config.challenger_model_package_arn:
        expected["Challenger"] = config.challenger_model_package_arn
    if config.shadow_model_package_arn:
        expected["Shadow"] = config.shadow_model_package_arn
    assert packages == expected
    assert float(environment["DECISION_THRESHOLD"]) == config.api.decision_threshold
    assert environment["POWERTOOLS_SERVICE_NAME"] == SERVICE
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE
    assert "FeatureStore" in json.dumps(environment["FEATURE_GROUP_NAME"])  # the group's name, by reference
    schema = json.loads(placeholders.FEATURE_SCHEMA.read_text())
    assert environment["FEATURE_SCHEMA_VERSION"] == schema_version(schema)  # a literal: the stack updates with it
    granted = [
        s
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in resources(template, kind).values()
        for s in statements(props(policy)["PolicyDocument"])
        if "sagemaker:GetRecord" in json.dumps(s["Action"])
    ]
    (statement,) = granted
    assert statement["Action"] == "sagemaker:GetRecord"  # read only: no PutRecord, no DeleteRecord
    decrypt = [
        s
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in resources(template, kind).values()
        for s in statements(props(policy)["PolicyDocument"])
        if s.get("Sid") == "DecryptOnlineFeatures"
    ]
    (online,) = decrypt  # facts: online-store-callers-need-kms-decrypt
    assert online["Action"] == "kms:Decrypt" and "LakeKey" in json.dumps(online["Resource"])
    assert "feature-group/" in json.dumps(statement["Resource"]) and "*" not in json.dumps(statement["Resource"])
    if name != "serverless":  # the online store is reached privately (facts: featurestore-get-record-permission)
        endpoints = resources(build.template("Network"), "AWS::EC2::VPCEndpoint")
        services = json.dumps([props(e)["ServiceName"] for e in endpoints.values()])
        assert "sagemaker.featurestore-runtime" in services


def test_the_function_validates_the_inputs_the_transform_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's required keys are the model's inputs: the Lambda's MODEL_INPUTS is features.INPUTS."""
    monkeypatch.syspath_prepend(str(ROOT / "lambdas" / "invoke_endpoint"))  # the function's root, as Lambda runs it
    assert list(importlib.import_module("models").MODEL_INPUTS) == features.INPUTS


@pytest.mark.parametrize("value", ["1.5", "0", "'high'"])
def test_the_decision_threshold_is_validated_in_one_line(tmp_path: Path, value: str) -> None:
    profile = (ROOT / "config" / "sandbox.yaml").read_text()
    assert "    throttle_burst: 20\n" in profile
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        profile.replace("    throttle_burst: 20\n", f"    throttle_burst: 20\n    decision_threshold: {value}\n")
    )
    with pytest.raises(ConfigError) as error:
        load_settings(config_path=str(bad))
    message = str(error.value)
    assert "inference.api.decision_threshold" in message and "\n" not in message.strip()


# --- capture and the online store --------------------------------------------------------------------------


@pytest.mark.exam("4.1")
@pytest.mark.parametrize("name", ("sandbox-serving", "production-serving", "model-monitor-ab", "shadow", "async"))
def test_capture_stores_the_json_records_as_text_for_the_drift_job(builds: dict[str, Synthesized], name: str) -> None:
    (config,) = resources(builds[name].template("Inference"), "AWS::SageMaker::EndpointConfig").values()
    header = props(config)["DataCaptureConfig"]["CaptureContentTypeHeader"]
    assert "application/json" in header["JsonContentTypes"]  # facts: capture-content-types


@pytest.mark.exam("1.2")
def test_the_feature_group_holds_the_raw_model_inputs_and_is_replaced_when_they_change(
    builds: dict[str, Synthesized],
) -> None:
    template = builds["sandbox"].template("FeatureStore")
    (group,) = resources(template, "AWS::SageMaker::FeatureGroup").values()
    definitions = {d["FeatureName"]: d["FeatureType"] for d in props(group)["FeatureDefinitions"]}
    assert [n for n in definitions if n in features.INPUTS] == features.INPUTS
    assert {n: definitions[n] for n in features.CATEGORICAL} == dict.fromkeys(features.CATEGORICAL, "String")
    assert {n: definitions[n] for n in features.NUMERIC} == dict.fromkeys(features.NUMERIC, "Fractional")
    schema = json.loads(placeholders.FEATURE_SCHEMA.read_text())
    name = json.dumps(props(group)["FeatureGroupName"])
    assert f"-{schema_version(schema)}-" in name  # facts: feature-group-features-cannot-change
    changed = {**schema, "features": [*schema["features"], {"name": "extra", "type": "String"}]}
    assert schema_version(changed) != schema_version(schema)
