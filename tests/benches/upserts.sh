#!/bin/bash
# Run from the checkout after `cargo build --release -p snaprock`: bash tests/benches/upserts.sh
# Upserts and deletes on a 4 M-row PRIMARY KEY table: time and bytes written, against a
# rewrite of the whole partition (INSERT OVERWRITE t SELECT * FROM t, what an upsert cost
# when it rewrote the partition) in the same run.
set -e
BIN=${BIN:-target/release/snaprock}
DIR=$(mktemp -d /tmp/upsert-bench.XXXX)
$BIN --data-dir $DIR --port 9331 --http-port 0 > $DIR.log 2>&1 &
PID=$!
sleep 2
q() { mysql -h127.0.0.1 -P9331 -uroot -N -e "$1"; }
t() { local s=$(date +%s.%N); q "$1" > /dev/null; echo "$(date +%s.%N) - $s" | bc; }
written() { du -sb $DIR/data | cut -f1; }
q "CREATE DATABASE b"
q "CREATE TABLE b.t (k BIGINT, v BIGINT, s VARCHAR(32)) PRIMARY KEY (k)"
echo "load 4M rows: $(t "INSERT INTO b.t SELECT generate_series, generate_series * 2, concat('row-', generate_series) FROM TABLE(generate_series(1, 4000000))") s"
B0=$(written)
echo "upsert 1000 rows: $(t "INSERT INTO b.t SELECT generate_series * 4000, -1, 'new' FROM TABLE(generate_series(1, 1000))") s"
B1=$(written)
echo "delete 1000 rows: $(t "DELETE FROM b.t WHERE k % 4000 = 1") s"
B2=$(written)
echo "baseline, rewrite of the partition: $(t "INSERT OVERWRITE b.t SELECT * FROM b.t") s"
echo "bytes: table $B0, upsert wrote $((B1 - B0)), delete wrote $((B2 - B1))"
q "SELECT count(*), sum(v) FROM b.t"
kill $PID; wait $PID 2>/dev/null || true
rm -rf $DIR $DIR.log
