"""The data domain: the lake (key, zones, prefixes), its catalog, streaming ingestion and the feature store."""
