"""Building blocks every domain uses: exceptions, keys, buckets, log groups, roles, functions, triggers."""
