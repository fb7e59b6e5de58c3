"""Copy the SageMaker image registries the platform uses from the pinned SDK into committed data.

Synth must not call the SDK, and a template must work in any region, so the stacks look image
accounts up in ``config/data/sagemaker_images.json`` (a CloudFormation mapping by region).
Run again after changing an image version: ``python -m tools.import_sagemaker_images``.
"""

from __future__ import annotations

import json
from pathlib import Path

import sagemaker

OUT = Path(__file__).resolve().parent.parent / "config" / "data" / "sagemaker_images.json"
IMAGES = {  # framework -> (SDK config file, version, image tag)
    "xgboost": ("xgboost.json", "3.0-5", "3.0-5"),
    "sklearn": ("sklearn.json", "1.2-1", "1.2-1-cpu-py3"),
}


def main() -> int:
    config_dir = Path(sagemaker.__file__).parent / "image_uri_config"
    data: dict[str, object] = {"_source": f"sagemaker {sagemaker.__version__} image_uri_config (training scope)"}
    for name, (file_name, version, tag) in IMAGES.items():
        entry = json.loads((config_dir / file_name).read_text())["training"]["versions"][version]
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
