"""The ML domain: the training pipeline and its model registry, the SageMaker pipeline builder, the image table and
batch scoring."""
