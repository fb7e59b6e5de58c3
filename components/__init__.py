"""The platform's L3 constructs. Named ``components`` so it never shadows the ``constructs`` library."""
