"""The platform's constructs, one package per domain mirroring the stacks: foundation, network, data, ml, serving,
monitoring, governance. Named ``components`` so it never shadows the ``constructs`` library."""
