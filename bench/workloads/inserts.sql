-- SPDX-License-Identifier: LGPL-2.1-or-later
-- An insert-heavy sqlite3 workload for the shim benchmark.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL, blob BLOB);
CREATE INDEX t_name ON t (name);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO t (name, value, blob) SELECT printf('name-%d-%s', i, hex(randomblob(8))), i * 0.5, randomblob(64) FROM n;
COMMIT;
SELECT count(*), sum(length(name)) FROM t;
