"""Many submissions: discovery, parallel batches, the SQLite gradebook, the class summary.

Each submission is graded by `graders.api.grade` in a worker; only the batch's parent writes
results files and gradebook rows (docs/batch.md).
"""
