"""Python MySQL clients against a running snaprock: PyMySQL, mysql-connector-python (text and
server-side prepared statements) and SQLAlchemy's inspector. Usage: python_clients.py PORT

Prints one line per check and ends with 'N passed, N failed'; exits non-zero on any failure."""
import decimal
import sys
import traceback

PORT = int(sys.argv[1])
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - report every failure and go on
            results.append((name, traceback.format_exc()))
            print(f"FAIL {name}\n{traceback.format_exc()}")
        return fn
    return wrap


@check("pymysql: connect, DDL, DML, types, errors")
def _():
    import pymysql
    conn = pymysql.connect(host="127.0.0.1", port=PORT, user="root", password="", autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS py")
    conn.select_db("py")
    cur.execute("DROP TABLE IF EXISTS t")
    cur.execute(
        "CREATE TABLE t (id INT NOT NULL, dt DATE, amount DECIMAL(10,2), name VARCHAR(20), ok BOOLEAN) "
        "DUPLICATE KEY(id) PARTITION BY RANGE(id) (PARTITION p0 VALUES LESS THAN ('100'), PARTITION p1 VALUES LESS THAN (MAXVALUE))"
    )
    n = cur.execute("INSERT INTO t VALUES (%s, %s, %s, %s, %s), (200, NULL, NULL, NULL, NULL)", (1, "2024-01-02", "3.50", "it's", True))
    assert n == 2, n
    cur.execute("SELECT id, dt, amount, name, ok FROM t ORDER BY id")
    rows = cur.fetchall()
    import datetime
    assert rows[0] == (1, datetime.date(2024, 1, 2), decimal.Decimal("3.50"), "it's", 1), rows
    assert rows[1] == (200, None, None, None, None), rows
    try:
        cur.execute("SELECT * FROM nope")
        raise AssertionError("no error")
    except pymysql.err.ProgrammingError as e:
        assert e.args[0] == 1146, e.args
    conn.ping()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    conn.close()


@check("mysql-connector-python: session setup and server-side prepared statements")
def _():
    import mysql.connector
    conn = mysql.connector.connect(host="127.0.0.1", port=PORT, user="root", password="", database="py")
    cur = conn.cursor(prepared=True)
    cur.execute("SELECT id, amount, name FROM t WHERE id = ? AND amount = ?", (1, decimal.Decimal("3.50")))
    assert cur.fetchall() == [(1, decimal.Decimal("3.50"), "it's")]
    cur.execute("SELECT count(*) FROM t WHERE dt IS NULL OR dt > ?", ("2020-01-01",))
    assert cur.fetchall() == [(2,)]
    plain = conn.cursor()
    plain.execute("SELECT @@session.sql_mode")
    assert "STRICT_TRANS_TABLES" in plain.fetchone()[0]
    conn.close()


@check("sqlalchemy inspector: schemas, tables, columns, has_table, reflection")
def _():
    import sqlalchemy as sa
    engine = sa.create_engine(f"mysql+pymysql://root@127.0.0.1:{PORT}/py")
    insp = sa.inspect(engine)
    assert "py" in insp.get_schema_names()
    assert "t" in insp.get_table_names()
    cols = {c["name"]: c for c in insp.get_columns("t")}
    assert list(cols) == ["id", "dt", "amount", "name", "ok"], list(cols)
    assert not cols["id"]["nullable"]
    assert insp.has_table("t") and not insp.has_table("missing")
    table = sa.Table("t", sa.MetaData(), autoload_with=engine)
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 2
        c.rollback()


failed = sum(1 for _, e in results if e)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
