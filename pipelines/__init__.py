"""SageMaker Pipelines: placeholders (all synth reads), builders, committed definitions, step scripts, sample data."""
