"""ClickHouse's BACKUP and RESTORE to the same S3 server, on the same rows, for the backup bench.

Run by `tests/benches/backup.rs` when SNAPROCK_BENCH_PYTHON names a Python with the `chdb`
package (ClickHouse in-process): loads the CSV into a MergeTree table, doubles it as many times
as the bench doubles snaprock's table, then times `BACKUP TABLE ... TO S3(...)` and
`RESTORE TABLE ... AS ... FROM S3(...)`. Prints one JSON line.

usage: clickhouse_backup.py <csv> <doublings> <endpoint> <bucket> <access key> <secret key> <work dir>
"""

import json
import os
import sys
import time

from chdb import session


def main():
    csv, doublings, endpoint, bucket, access, secret, work = sys.argv[1:8]
    s = session.Session(os.path.join(work, "chdb"))
    s.query("CREATE DATABASE IF NOT EXISTS b")
    s.query("CREATE TABLE b.t (id Int64, payload String) ENGINE = MergeTree ORDER BY tuple()")
    s.query(f"INSERT INTO b.t SELECT * FROM file('{csv}', 'CSV', 'id Int64, payload String')")
    for _ in range(int(doublings)):
        s.query("INSERT INTO b.t SELECT * FROM b.t")
    s.query("OPTIMIZE TABLE b.t FINAL")
    rows = int(str(s.query("SELECT count() FROM b.t", "CSV")).strip())
    stored = int(
        str(
            s.query(
                "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'b' AND table = 't' AND active",
                "CSV",
            )
        ).strip()
    )
    url = f"{endpoint}/{bucket}/clickhouse/{int(time.time())}"
    started = time.monotonic()
    s.query(f"BACKUP TABLE b.t TO S3('{url}', '{access}', '{secret}')")
    backup_s = time.monotonic() - started
    started = time.monotonic()
    s.query(f"RESTORE TABLE b.t AS b.restored FROM S3('{url}', '{access}', '{secret}')")
    restore_s = time.monotonic() - started
    restored = int(str(s.query("SELECT count() FROM b.restored", "CSV")).strip())
    assert restored == rows, (restored, rows)
    print(json.dumps({"rows": rows, "stored_bytes": stored, "backup_s": backup_s, "restore_s": restore_s}))


if __name__ == "__main__":
    main()
