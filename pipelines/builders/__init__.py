"""Build the SageMaker Pipeline definitions with the SageMaker Python SDK 2.x, offline.

    python -m pipelines.builders          # rewrite pipelines/definitions/*.json and feature_schema.json
    python -m pipelines.builders --check  # exit 1, naming each stale file, if a committed one differs

``common`` sets the SDK up once (one offline session, telemetry off) and renders; ``steps`` has the small
step factories every definition is made of; ``training``, ``drift`` and ``batch`` each build one kind of
definition; ``files`` maps every committed file to its generated text. The values the stacks replace at
synth time live in ``pipelines.placeholders``, which synth imports without loading the SDK; nothing in
this package is imported at synth time.
"""

import os

# Before anything imports the SDK: it warns at import that v2 is on the path of deprecation.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
