# SPDX-License-Identifier: LGPL-2.1-or-later
# A dict/list-heavy Python workload for the shim benchmark.
import json

table = {}
for i in range(200000):
    table["key-%d" % i] = [i, str(i), {"n": i, "sq": i * i}]
    if i % 3 == 0:
        table.pop("key-%d" % (i // 2), None)
text = json.dumps(table)
back = json.loads(text)
rows = sorted(back.items(), key=lambda kv: kv[1][0])
print(len(rows), len(text))
