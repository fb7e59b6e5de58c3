"""Copy the SageMaker image registries the platform uses from the pinned SDK into committed data.

Synth must not call the SDK, and a template must work in any region, so the stacks look image
accounts up in ``config/data/sagemaker_images.json`` (a CloudFormation mapping by region).
Run again after changing an image version: ``python -m tools.import_sagemaker_images``.
"""

from __future__ import annotations

import json
from pathlib import Path

import sagemaker

from pipelines.placeholders import SKLEARN_VERSION, XGBOOST_VERSION

OUT = Path(__file__).resolve().parent.parent / "config" / "data" / "sagemaker_images.json"
# image -> (SDK config file, scope, version, image tag; None: untagged, as the SDK uses it). The framework
# versions are the pipeline definitions' (config/data/containers.yaml records what each image contains);
# the SDK retrieves processing images from the "training" scope too.
IMAGES = {
    "xgboost": ("xgboost.json", "training", XGBOOST_VERSION, XGBOOST_VERSION),
    "sklearn": ("sklearn.json", "training", SKLEARN_VERSION, f"{SKLEARN_VERSION}-cpu-py3"),
    "model-monitor": ("model-monitor.json", None, "", None),
    "clarify": ("clarify.json", "processing", "1.0", "1.0"),
}


def main() -> int:
    config_dir = Path(sagemaker.__file__).parent / "image_uri_config"
    data: dict[str, object] = {"_source": f"sagemaker {sagemaker.__version__} image_uri_config"}
    for name, (file_name, scope, version, tag) in IMAGES.items():
        config = json.loads((config_dir / file_name).read_text())
        entry = (config[scope] if scope else config)["versions"][version]
        data[name] = {
            "version": version,
            "repository": entry["repository"],
            "tag": tag,
            "registries": dict(sorted(entry["registries"].items())),
        }
    OUT.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
