"""Pipeline step scripts. Each is one self-contained file (it is uploaded alone to a SageMaker container)
with a ``main(argv)`` that the container runs and the tests call in-process on small data."""
