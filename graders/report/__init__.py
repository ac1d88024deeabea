"""Words and files: what a graded result says to students, instructors and machines.

Reports read `graders.model` results and write text, Markdown, HTML, Gradescope's
results.json and CI outputs. They never judge and never import `run`: a new format is a new
module here that reads `sections.sections(op)` (see docs/architecture.md).
"""
