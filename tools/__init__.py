"""Developer tools run by the Makefile: synth summary, registers, reports, benchmarks."""
