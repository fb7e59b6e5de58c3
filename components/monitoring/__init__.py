"""The monitoring domain: drift detection and the retraining loop, Model Monitor, notifications, the dashboard."""
