"""The governance domain: the audit trail, the alerts topic, cost controls and the API Gateway account role."""
