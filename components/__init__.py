"""The platform's constructs, by domain: foundation, network, data, ml, serving, monitoring, governance."""
