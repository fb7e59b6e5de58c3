"""SageMaker Pipelines: sample data, step scripts, the definition builder and committed definitions."""
