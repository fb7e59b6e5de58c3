"""Thin stacks: each composes components and wires them to the others."""
