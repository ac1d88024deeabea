"""The trusted judge: expected values (sympy), probe points, verdicts and diagnoses.

It runs only in the parent and never runs student code: it plans what to ask, then judges the
plain numbers that came back (`graders.model.Outcome`). It imports `spec` and `model`, never
`run`, so what decides a grade cannot depend on how the child was run.
"""
