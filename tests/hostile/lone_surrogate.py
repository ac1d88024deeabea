# ruff: noqa
# hostile: raises ValueError("\ud800"): an error whose text UTF-8 cannot carry, which every report and results file must still write
# where: tanh
# modes: strong weak container nowall user
raise ValueError("\ud800")
