"""The ML domain: the training pipeline, the model registry, the pipeline builder and the image table."""
