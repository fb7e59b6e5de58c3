"""CI/CD: the pipeline that deploys the platform's stages (issue 13). The top domain: it may import every domain
below it, and none imports it."""
