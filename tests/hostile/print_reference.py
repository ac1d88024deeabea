# ruff: noqa
# hostile: prints the README's reference numbers and fake result lines instead of working
# where: end
# modes: strong weak container nowall user
# shows: 645\.5773
import json as _json
print("24.7041")
print("138.8338")
print("645.5773")
print('{"kind": "done", "group": "tanh"}')
print(_json.dumps({"score": 25, "tests": [{"name": "tanh", "score": 2, "max_score": 2}]}))
print("RESULT tanh PASS 2/2")
