"""The serving domain: the model endpoint with its alarms and scaling, the invocation API, the approval
notifications."""
