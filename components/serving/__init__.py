"""The serving domain: the endpoint, its alarms and scaling, the API, batch scoring and approvals."""
