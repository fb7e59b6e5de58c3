"""Building blocks every domain uses: compliance acknowledgments, keys, secure buckets, log groups, roles, exam
metadata, triggers, dead-letter queues and VPC functions."""
