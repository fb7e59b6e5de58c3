"""A function with a requirements.txt ships its sources plus the libraries ``make lambda-deps`` built for the
runtime (components/foundation/functions.py): CDK local bundling, no Docker, an asset hash from the sources and
the lock, never from the 14 MB bundle. The lock itself pins every library the function imports."""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from components.foundation import functions
from components.foundation.functions import VpcFunction

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "lambdas" / "invoke_endpoint" / "requirements.txt"
# What the python3.12 runtime provides: its SDK for Python and that SDK's own dependencies.
RUNTIME_PROVIDED = {"boto3", "botocore", "jmespath", "s3transfer", "urllib3", "python-dateutil", "six"}
# The runtime's Python, for the requirement markers of the pinned packages.
RUNTIME_MARKERS: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
RUNTIME_MARKERS |= {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux"}
RUNTIME_MARKERS |= {"platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython"}


def pins(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, extras)`` of a requirements file's ``==`` lines."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            found[canonicalize_name(requirement.name)] = (specifier.version, frozenset(requirement.extras))
    return found


def test_the_lock_pins_everything_the_function_imports_but_the_runtimes_sdk() -> None:
    """Installed with --no-deps, the lock must be closed: every requirement of a pinned package (for the extras
    the lock names, on the runtime's Python) is pinned too, or provided by the runtime."""
    locked = pins(LOCK.read_text())
    missing = set()
    for name, (_, extras) in locked.items():
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{**RUNTIME_MARKERS, "extra": extra} for extra in ("", *extras)]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            needed = canonicalize_name(requirement.name)
            if needed not in locked and needed not in RUNTIME_PROVIDED:
                missing.add(f"{needed} (for {name})")
    assert not missing, f"pin in {LOCK.relative_to(ROOT)}: {sorted(missing)}"
    assert not RUNTIME_PROVIDED & set(locked), "the runtime provides boto3 and botocore: do not bundle them"


def pinned_in(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """The pins of a requirements file and of the files it includes (``-r``)."""
    text = path.read_text()
    found = pins("\n".join(line for line in text.splitlines() if "==" in line))
    for included in re.findall(r"^-r\s+(\S+)", text, re.MULTILINE):
        found |= pinned_in(path.parent / included)
    return found


@pytest.mark.parametrize("other", ["requirements-lambda.txt", "requirements-dev.txt"])
def test_the_test_venvs_pin_the_functions_versions(other: str) -> None:
    """.venv-lambda (runtime parity) and .venv run the handler tests: with the versions the asset bundles."""
    theirs = pinned_in(ROOT / other)
    locked = {name: version for name, (version, _) in pins(LOCK.read_text()).items()}
    shared = {name: theirs[name][0] for name in locked if name in theirs}
    assert shared == {name: locked[name] for name in shared}
    required = {"aws-lambda-powertools", "pydantic"} | (set(locked) if other == "requirements-lambda.txt" else set())
    assert required <= set(theirs), f"{other} lacks {sorted(required - set(theirs))}"


# The asset --------------------------------------------------------------------------------------------------


class _Network:
    def __init__(self, stack: cdk.Stack) -> None:
        isolated = ec2.SubnetType.PRIVATE_ISOLATED
        self.vpc = ec2.Vpc(
            stack, "Vpc", max_azs=1, subnet_configuration=[ec2.SubnetConfiguration(name="i", subnet_type=isolated)]
        )
        self.subnets = ec2.SubnetSelection(subnet_type=isolated)
        self.workload_security_group = ec2.SecurityGroup(stack, "Workloads", vpc=self.vpc)


def synthesized_assets(outdir: Path, *folders: str) -> dict[str, tuple[Path, str]]:
    """Synthesize a VpcFunction of each ``lambdas/<folder>``: ``folder -> (staged asset folder, S3 key)``."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Packaging", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    network = _Network(stack)
    for folder in folders:
        VpcFunction(
            stack,
            folder,
            folder=folder,
            description="packaging test",
            network=network,
            statements=[],
            environment={},
            reserved_concurrency=None,
            log_retention_days=30,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            role_description="packaging test",
        )
    template: dict[str, Any] = app.synth().get_stack_by_name("Packaging").template
    found = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            (folder,) = [folder for folder in folders if logical.startswith(folder.replace("_", ""))]
            key = resource["Properties"]["Code"]["S3Key"]
            found[folder] = (outdir / f"asset.{key.removesuffix('.zip')}", key)
    return found


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return synthesized_assets(tmp_path_factory.mktemp("cdk.out"), "invoke_endpoint", "drift_starter")


def test_the_prediction_function_ships_its_sources_and_its_runtime_libraries(
    assets: dict[str, tuple[Path, str]],
) -> None:
    asset, _ = assets["invoke_endpoint"]
    shipped = {path.relative_to(asset).as_posix() for path in asset.rglob("*") if path.is_file()}
    assert {"handler.py", "api.py", "models.py", "scoring.py"} <= shipped
    for package in ("aws_lambda_powertools", "aws_xray_sdk", "pydantic", "pydantic_core", "typing_extensions.py"):
        assert any(path == package or path.startswith(f"{package}/") for path in shipped), package
    # Every compiled extension is built for the runtime: CPython 3.12 on x86_64 Linux (manylinux wheels).
    extensions = [path for path in shipped if path.endswith(".so")]
    assert "pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so" in extensions
    assert all(path.endswith(".cpython-312-x86_64-linux-gnu.so") for path in extensions), extensions
    assert not [p for p in shipped if p.split("/")[0] in ("boto3", "botocore")], "the runtime provides the SDK"
    assert not [p for p in shipped if "__pycache__" in p or p.endswith(".pyc")]
    assert not {"requirements.txt", "__init__.py", ".installed"} & shipped


def test_the_asset_hash_is_the_sources_and_the_lock_so_templates_stay_stable(
    assets: dict[str, tuple[Path, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the bundle (14 MB, never hashed) and not the folder's path: a copy of the sources hashes the same,
    bytecode changes nothing, a changed source or pin changes the key."""
    _, key = assets["invoke_endpoint"]
    copy = tmp_path / "lambdas" / "invoke_endpoint"
    shutil.copytree(ROOT / "lambdas" / "invoke_endpoint", copy, ignore=shutil.ignore_patterns("__pycache__"))
    same = functions.source_hash(copy)
    assert same == functions.source_hash(ROOT / "lambdas" / "invoke_endpoint")
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "api.cpython-312.pyc").write_bytes(b"bytecode")
    assert functions.source_hash(copy) == same
    (copy / "requirements.txt").write_text((copy / "requirements.txt").read_text() + "wrapt==0.0.1\n")
    assert functions.source_hash(copy) != same
    (copy / "requirements.txt").write_text(LOCK.read_text())
    (copy / "api.py").write_text((copy / "api.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(functions, "LAMBDAS", tmp_path / "lambdas")
    (_, changed) = synthesized_assets(tmp_path / "cdk.out", "invoke_endpoint")["invoke_endpoint"]
    assert changed != key


@pytest.mark.parametrize("built_from", [None, "aws-lambda-powertools==3.0.0\n"])
def test_without_the_right_built_libraries_synth_fails_naming_the_make_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, built_from: str | None
) -> None:
    """Not built yet, or built from an older requirements.txt (a pin changed since ``make lambda-deps``)."""
    if built_from is not None:
        (tmp_path / "invoke_endpoint").mkdir()
        (tmp_path / "invoke_endpoint" / ".installed").write_text(built_from)
    monkeypatch.setattr(functions, "LAMBDA_BUILD", tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        functions.function_code("invoke_endpoint")
    (line,) = str(error.value).splitlines()
    assert line.endswith("run `make lambda-deps`") and str(tmp_path) in line


def test_a_function_without_requirements_is_its_folder_as_it_is(assets: dict[str, tuple[Path, str]]) -> None:
    asset, _ = assets["drift_starter"]
    assert {path.name for path in asset.iterdir()} == {"handler.py", "starter.py"}


def test_the_make_target_builds_for_the_lambda_runtime() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (recipe,) = re.findall(r"^\$\(LAMBDA_DEPS\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    for flag in ("--platform manylinux2014_x86_64", "--python-version 3.12", "--only-binary=:all:", "--no-deps"):
        assert flag in recipe.replace("\\\n\t", " ").replace("\t", ""), flag
    assert functions.RUNTIME.name == "python3.12"
    for target in ("synth", "unit", "bench", "cost", "docs", "diff", "deploy"):
        (line,) = re.findall(rf"^{target}:[^#\n]*", makefile, re.MULTILINE)
        assert "$(LAMBDA_DEPS)" in line, f"make {target} does not build the function's libraries first"
