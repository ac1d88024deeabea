"""What is graded, as pure data: the op table, the mistake catalogue, assignments.

Nothing in this layer computes a verdict or touches student code, and it imports nothing from
the other layers: every other layer reads it (see docs/architecture.md).
"""
