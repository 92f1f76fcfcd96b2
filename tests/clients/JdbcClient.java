// A JDBC client against a running snaprock (MariaDB Connector/J, the driver Metabase ships):
// connect, DDL/DML, prepared statements, ResultSetMetaData types, DatabaseMetaData browsing.
// Usage: java -cp mariadb-java-client.jar:. JdbcClient PORT   (prints 'N passed, N failed')
import java.sql.*;
import java.util.*;

public class JdbcClient {
    static int passed = 0, failed = 0;

    interface Check { void run() throws Exception; }

    static void check(String name, Check c) {
        try { c.run(); passed++; System.out.println("ok   " + name); }
        catch (Throwable t) { failed++; System.out.println("FAIL " + name + ": " + t); t.printStackTrace(System.out); }
    }

    static void expect(boolean ok, String what) { if (!ok) throw new AssertionError(what); }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:mariadb://127.0.0.1:" + args[0] + "/?user=root&password=";
        try (Connection c = DriverManager.getConnection(url)) {
            check("DDL and DML through Statement", () -> {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE IF NOT EXISTS jdbc");
                    s.execute("CREATE TABLE IF NOT EXISTS jdbc.orders (id BIGINT NOT NULL, day DATE, amount DECIMAL(10,2), note VARCHAR(30)) "
                        + "DUPLICATE KEY(id) PARTITION BY RANGE(day) (PARTITION p1 VALUES LESS THAN ('2025-01-01'), PARTITION p2 VALUES LESS THAN (MAXVALUE))");
                    int n = s.executeUpdate("INSERT INTO jdbc.orders VALUES (1, '2024-03-01', 9.99, 'first'), (2, '2025-03-01', NULL, NULL)");
                    expect(n == 2, "affected rows " + n);
                }
            });
            check("prepared statement and result metadata", () -> {
                try (PreparedStatement p = c.prepareStatement("SELECT id, day, amount, note FROM jdbc.orders WHERE id >= ? ORDER BY id")) {
                    p.setLong(1, 1);
                    try (ResultSet rs = p.executeQuery()) {
                        ResultSetMetaData md = rs.getMetaData();
                        expect(md.getColumnType(1) == Types.BIGINT, "id type " + md.getColumnType(1));
                        expect(md.getColumnType(2) == Types.DATE, "day type " + md.getColumnType(2));
                        expect(md.getColumnType(3) == Types.DECIMAL, "amount type " + md.getColumnType(3));
                        expect(rs.next() && rs.getLong(1) == 1 && rs.getBigDecimal(3).toPlainString().equals("9.99"), "row 1");
                        expect(rs.next() && rs.getString(4) == null && rs.wasNull(), "row 2 NULLs");
                        expect(!rs.next(), "two rows");
                    }
                }
            });
            check("DatabaseMetaData: catalogs, tables, columns", () -> {
                DatabaseMetaData md = c.getMetaData();
                Set<String> catalogs = new HashSet<>();
                try (ResultSet rs = md.getCatalogs()) { while (rs.next()) catalogs.add(rs.getString(1)); }
                expect(catalogs.contains("jdbc"), "catalogs " + catalogs);
                try (ResultSet rs = md.getTables("jdbc", null, "%", new String[] {"TABLE", "VIEW"})) {
                    expect(rs.next() && rs.getString("TABLE_NAME").equals("orders"), "getTables");
                }
                List<String> columns = new ArrayList<>();
                try (ResultSet rs = md.getColumns("jdbc", null, "orders", "%")) {
                    while (rs.next()) columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("DATA_TYPE"));
                }
                expect(columns.equals(List.of("id:" + Types.BIGINT, "day:" + Types.DATE, "amount:" + Types.DECIMAL, "note:" + Types.VARCHAR)), "getColumns " + columns);
            });
            check("errors keep the connection", () -> {
                try (Statement s = c.createStatement()) {
                    try { s.executeQuery("SELECT * FROM jdbc.nope"); throw new AssertionError("no error"); }
                    catch (SQLException e) { expect(e.getErrorCode() == 1146 && "42S02".equals(e.getSQLState()), e.getErrorCode() + " " + e.getSQLState()); }
                    expect(c.isValid(2), "isValid");
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc.orders")) { expect(rs.next() && rs.getInt(1) == 2, "count"); }
                }
            });
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
