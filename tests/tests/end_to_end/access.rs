//! Accounts, privileges and roles end to end, with a real MySQL client over TCP: logins against
//! stored password hashes, StarRocks' denial text for every backup, restore and repository
//! statement and for tables not granted, grants and roles opening exactly what they name,
//! revocation on the next statement, filtered SHOW and information_schema, and accounts that
//! survive a restart.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::{
    TestServer, column, expect_error, rows, run, server_error, snapshot_timestamp, value,
    wait_for_backup_state, wait_for_restore_state,
};

const ACCESS_DENIED: u16 = 5203;

/// StarRocks' ERR_ACCESS_DENIED text.
fn denied(privileges: &str, object: &str, current: &str, inactive: &str) -> String {
    format!(
        "Access denied; you need (at least one of) the {privileges} privilege(s) on {object} for \
         this operation. Please ask the admin to grant permission(s) or try activating existing \
         roles using <set [default] role>. Current role(s): {current}. Inactivated role(s): \
         {inactive}."
    )
}

async fn login(server: &TestServer, user: &str, password: &str) -> Conn {
    Conn::new(server.opts(user, Some(password), None))
        .await
        .unwrap_or_else(|e| panic!("login as {user}: {e}"))
}

async fn login_error(server: &TestServer, user: &str, password: Option<&str>) -> (u16, String) {
    server_error(Conn::new(server.opts(user, password, None)).await)
}

async fn setup_data(root: &mut Conn) {
    run(
        root,
        &[
            "CREATE DATABASE sales",
            "CREATE TABLE sales.orders (id INT, amount INT) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO sales.orders VALUES (1, 10), (2, 20), (3, 30)",
            "CREATE TABLE sales.customers (id INT, name VARCHAR(20)) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
            "CREATE DATABASE hr",
            "CREATE TABLE hr.pay (id INT, salary INT) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO hr.pay VALUES (1, 100), (2, 200)",
            // A view that reads a table its readers may not.
            "CREATE VIEW sales.payroll_size AS SELECT count(*) AS people FROM hr.pay",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_use_stored_hashes_and_passwords_change() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut root = server.conn().await;
    run(
        &mut root,
        &["CREATE USER 'alice'@'%' IDENTIFIED BY 'first-pw'"],
    )
    .await;
    expect_error(
        &mut root,
        "CREATE USER alice IDENTIFIED BY 'x'",
        1396,
        "Operation CREATE USER failed for 'alice'@'%'",
    )
    .await;
    run(
        &mut root,
        &["CREATE USER IF NOT EXISTS alice IDENTIFIED BY 'x'"],
    )
    .await;
    expect_error(
        &mut root,
        "CREATE USER carol IDENTIFIED BY PASSWORD '*123'",
        1372,
        "Password hash should be a 41-digit hexadecimal number",
    )
    .await;
    // The password is stored only as its mysql_native_password hash.
    let accounts = std::fs::read_to_string(data_dir.path().join("accounts.json")).unwrap();
    assert!(!accounts.contains("first-pw"));
    // SELECT PASSWORD('first-pw') on MySQL 5.7.
    let hash = {
        use sha1::{Digest, Sha1};
        let stage2 = Sha1::digest(Sha1::digest(b"first-pw"));
        format!("*{}", hex_upper(&stage2))
    };
    assert!(accounts.contains(&hash), "{accounts}");

    assert_eq!(
        login_error(&server, "alice", Some("wrong")).await,
        (
            1045,
            "Access denied for user 'alice'@'127.0.0.1' (using password: YES)".into()
        )
    );
    assert_eq!(
        login_error(&server, "alice", None).await,
        (
            1045,
            "Access denied for user 'alice'@'127.0.0.1' (using password: NO)".into()
        )
    );
    assert_eq!(
        login_error(&server, "nobody", Some("x")).await.0,
        1045,
        "unknown user"
    );
    let mut alice = login(&server, "alice", "first-pw").await;
    assert_eq!(
        value(&mut alice, "SELECT CURRENT_USER()").await,
        "'alice'@'%'"
    );
    // Changing one's own password needs no privilege; changing another's does.
    run(&mut alice, &["SET PASSWORD = PASSWORD('second-pw')"]).await;
    expect_error(
        &mut alice,
        "SET PASSWORD FOR root = PASSWORD('owned')",
        ACCESS_DENIED,
        &denied("GRANT", "SYSTEM", "NONE", "NONE"),
    )
    .await;
    assert_eq!(
        login_error(&server, "alice", Some("first-pw")).await.0,
        1045
    );
    drop(login(&server, "alice", "second-pw").await);
    // A host pattern: only that host may use the account.
    run(
        &mut root,
        &[
            "CREATE USER 'bob'@'10.%' IDENTIFIED BY 'pw'",
            "ALTER USER alice IDENTIFIED BY 'third-pw'",
        ],
    )
    .await;
    assert_eq!(login_error(&server, "bob", Some("pw")).await.0, 1045);
    drop(login(&server, "alice", "third-pw").await);
    // Root's own password, set by SQL, survives a restart without --root-password.
    run(
        &mut root,
        &["SET PASSWORD FOR 'root' = PASSWORD('root-pw')"],
    )
    .await;
    let users = rows(&mut root, "SHOW USERS").await;
    assert_eq!(
        users,
        vec![
            vec!["'alice'@'%'".to_string()],
            vec!["'bob'@'10.%'".to_string()],
            vec!["'root'@'%'".to_string()],
        ]
    );
    run(&mut root, &["DROP USER 'alice'@'%'"]).await;
    expect_error(
        &mut root,
        "DROP USER alice",
        1396,
        "Operation DROP USER failed for 'alice'@'%'",
    )
    .await;
    expect_error(
        &mut root,
        "DROP USER root",
        1396,
        "Operation DROP USER failed for 'root'@'%'",
    )
    .await;
    // A dropped user's open session keeps nothing.
    assert_eq!(
        login_error(&server, "alice", Some("third-pw")).await.0,
        1045
    );
    drop(root);
    server.stop().await;

    let server = TestServer::start_in(data_dir.path(), "").await;
    assert_eq!(login_error(&server, "root", None).await.0, 1045);
    let mut root = login(&server, "root", "root-pw").await;
    assert_eq!(rows(&mut root, "SHOW USERS").await.len(), 2);
    drop(root);
    server.stop().await;
    // --root-password resets a lost root password.
    let server = TestServer::start_in(data_dir.path(), "reset-pw").await;
    drop(login(&server, "root", "reset-pw").await);
    server.stop().await;
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_grants_is_denied_every_backup_statement_and_table() {
    let repo_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    setup_data(&mut root).await;
    let repo = format!(
        "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
        repo_dir.path().display()
    );
    run(&mut root, &[&repo, "CREATE USER alice IDENTIFIED BY 'pw'"]).await;
    run(&mut root, &["BACKUP SNAPSHOT sales.snap1 TO repo"]).await;
    wait_for_backup_state(&mut root, "sales", &["FINISHED"]).await;
    let ts = snapshot_timestamp(&mut root, "repo", "snap1").await;

    let mut alice = login(&server, "alice", "pw").await;
    let repository = denied("REPOSITORY", "SYSTEM", "NONE", "NONE");
    let statements = [
        repo.clone(),
        "DROP REPOSITORY repo".to_string(),
        "SHOW REPOSITORIES".to_string(),
        "SHOW SNAPSHOT ON repo".to_string(),
        "BACKUP SNAPSHOT sales.snap2 TO repo".to_string(),
        "SHOW BACKUP FROM sales".to_string(),
        "CANCEL BACKUP FROM sales".to_string(),
        format!(
            "RESTORE SNAPSHOT sales_copy.snap1 FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        ),
        "SHOW RESTORE FROM sales".to_string(),
        "CANCEL RESTORE FROM sales".to_string(),
    ];
    for sql in &statements {
        expect_error(&mut alice, sql, ACCESS_DENIED, &repository).await;
    }
    // Nothing was changed by the denied statements.
    assert_eq!(rows(&mut root, "SHOW REPOSITORIES").await.len(), 1);
    assert_eq!(rows(&mut root, "SHOW BACKUP FROM sales").await.len(), 1);
    assert!(rows(&mut root, "SHOW RESTORE FROM sales").await.is_empty());
    assert!(
        !rows(&mut root, "SHOW DATABASES")
            .await
            .iter()
            .any(|r| r[0] == "sales_copy")
    );

    // Tables: denied reading, writing and DDL, with the object named.
    for (sql, privilege, object) in [
        ("SELECT * FROM sales.orders", "SELECT", "TABLE orders"),
        (
            "SELECT count(*) FROM hr.pay p JOIN sales.orders o ON p.id = o.id",
            "SELECT",
            "TABLE pay",
        ),
        (
            "SELECT * FROM sales.orders WHERE id IN (SELECT id FROM hr.pay)",
            "SELECT",
            "TABLE pay",
        ),
        (
            "INSERT INTO sales.orders VALUES (9, 9)",
            "INSERT",
            "TABLE orders",
        ),
        (
            "DELETE FROM sales.orders WHERE id = 1",
            "DELETE",
            "TABLE orders",
        ),
        (
            "UPDATE sales.orders SET amount = 0",
            "UPDATE",
            "TABLE orders",
        ),
        ("TRUNCATE TABLE sales.orders", "DELETE", "TABLE orders"),
        ("DROP TABLE sales.orders", "DROP", "TABLE orders"),
        (
            "ALTER TABLE sales.orders ADD PARTITION p9 VALUES LESS THAN ('9')",
            "ALTER",
            "TABLE orders",
        ),
        (
            "CREATE TABLE sales.t2 (id INT)",
            "CREATE TABLE",
            "DATABASE sales",
        ),
        (
            "CREATE VIEW sales.v2 AS SELECT 1",
            "CREATE VIEW",
            "DATABASE sales",
        ),
        ("DROP DATABASE hr", "DROP", "DATABASE hr"),
        (
            "CREATE DATABASE newdb",
            "CREATE DATABASE",
            "CATALOG default_catalog",
        ),
        (
            "SELECT * FROM sales.payroll_size",
            "SELECT",
            "TABLE payroll_size",
        ),
        ("EXPLAIN SELECT * FROM hr.pay", "SELECT", "TABLE pay"),
        // A CTE with a table's name hides nothing: the table inside is still checked.
        (
            "WITH x AS (SELECT * FROM hr.pay) SELECT * FROM x",
            "SELECT",
            "TABLE pay",
        ),
        (
            "SELECT * FROM FILES(\"path\" = \"file:///etc/hostname\", \"format\" = \"csv\")",
            "FILE",
            "SYSTEM",
        ),
        (
            "SET GLOBAL activate_all_roles_on_login = ON",
            "OPERATE",
            "SYSTEM",
        ),
        ("CREATE USER mallory", "GRANT", "SYSTEM"),
        (
            "GRANT SELECT ON TABLE hr.pay TO USER alice",
            "GRANT",
            "SYSTEM",
        ),
        ("CREATE ROLE r", "GRANT", "SYSTEM"),
        ("SHOW USERS", "GRANT", "SYSTEM"),
        ("SHOW GRANTS FOR root", "GRANT", "SYSTEM"),
    ] {
        expect_error(
            &mut alice,
            sql,
            ACCESS_DENIED,
            &denied(privilege, object, "NONE", "NONE"),
        )
        .await;
    }
    // SHOW CREATE TABLE and DESCRIBE need some privilege on the table.
    let any = "SELECT, INSERT, DELETE, UPDATE, DROP, ALTER, EXPORT";
    for sql in [
        "SHOW CREATE TABLE hr.pay",
        "DESCRIBE hr.pay",
        "SHOW PARTITIONS FROM hr.pay",
    ] {
        expect_error(
            &mut alice,
            sql,
            ACCESS_DENIED,
            &denied(any, "TABLE pay", "NONE", "NONE"),
        )
        .await;
    }
    // Kill another user's connection: OPERATE.
    let root_id = value(&mut root, "SELECT CONNECTION_ID()").await;
    expect_error(
        &mut alice,
        &format!("KILL {root_id}"),
        ACCESS_DENIED,
        &denied("OPERATE", "SYSTEM", "NONE", "NONE"),
    )
    .await;
    assert_eq!(value(&mut root, "SELECT 1").await, "1");
    // Nothing written.
    assert_eq!(
        value(&mut root, "SELECT count(*) FROM sales.orders").await,
        "3"
    );
    assert_eq!(value(&mut root, "SELECT count(*) FROM hr.pay").await, "2");

    // USE and what is visible.
    expect_error(
        &mut alice,
        "USE hr",
        1044,
        "Access denied for user 'alice'@'%' to database 'hr'",
    )
    .await;
    assert_eq!(
        server_error(Conn::new(server.opts("alice", Some("pw"), Some("hr"))).await).0,
        1044
    );
    assert_eq!(
        rows(&mut alice, "SHOW DATABASES").await,
        vec![vec!["information_schema".to_string()]]
    );
    assert_eq!(
        value(
            &mut alice,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema <> 'information_schema'"
        )
        .await,
        "0"
    );
    assert_eq!(
        value(
            &mut alice,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'hr'"
        )
        .await,
        "0"
    );
    // Only their own connections in the process list.
    let users: Vec<String> = rows(&mut alice, "SHOW PROCESSLIST")
        .await
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(users, vec!["alice".to_string()]);
    // The connection still works after all those errors.
    assert_eq!(value(&mut alice, "SELECT 1 + 1").await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_and_roles_open_exactly_what_they_name_and_revocation_is_immediate() {
    let repo_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut root = server.conn().await;
    setup_data(&mut root).await;
    run(&mut root, &["CREATE USER alice IDENTIFIED BY 'pw'"]).await;
    let mut alice = login(&server, "alice", "pw").await;

    // A table grant: that table, that privilege.
    run(
        &mut root,
        &["GRANT SELECT ON TABLE sales.orders TO USER 'alice'@'%'"],
    )
    .await;
    assert_eq!(
        value(&mut alice, "SELECT sum(amount) FROM sales.orders").await,
        "60"
    );
    run(&mut alice, &["USE sales"]).await;
    assert_eq!(value(&mut alice, "SELECT count(*) FROM orders").await, "3");
    assert_eq!(
        rows(&mut alice, "SHOW TABLES").await,
        vec![vec!["orders".to_string()]]
    );
    assert_eq!(
        rows(&mut alice, "SHOW DATABASES").await,
        vec![
            vec!["information_schema".to_string()],
            vec!["sales".to_string()]
        ]
    );
    assert_eq!(
        rows(
            &mut alice,
            "SELECT table_schema, table_name FROM information_schema.tables \
             WHERE table_schema <> 'information_schema' ORDER BY 1, 2"
        )
        .await,
        vec![vec!["sales".to_string(), "orders".to_string()]]
    );
    expect_error(
        &mut alice,
        "INSERT INTO orders VALUES (4, 40)",
        ACCESS_DENIED,
        &denied("INSERT", "TABLE orders", "NONE", "NONE"),
    )
    .await;
    expect_error(
        &mut alice,
        "SELECT * FROM customers",
        ACCESS_DENIED,
        &denied("SELECT", "TABLE customers", "NONE", "NONE"),
    )
    .await;
    // A CTE named like a table is the CTE.
    assert_eq!(
        value(
            &mut alice,
            "WITH customers AS (SELECT 7 AS n) SELECT n FROM customers"
        )
        .await,
        "7"
    );
    // A prepared statement is checked at prepare time too.
    assert_eq!(
        server_error(alice.prep("SELECT * FROM customers WHERE id = ?").await).0,
        ACCESS_DENIED
    );
    // A view: SELECT on the view is enough, not on the tables it reads.
    run(
        &mut root,
        &["GRANT SELECT ON VIEW sales.payroll_size TO USER alice"],
    )
    .await;
    assert_eq!(
        value(&mut alice, "SELECT people FROM payroll_size").await,
        "2"
    );
    expect_error(
        &mut alice,
        "SELECT * FROM hr.pay",
        ACCESS_DENIED,
        &denied("SELECT", "TABLE pay", "NONE", "NONE"),
    )
    .await;

    // Revocation takes effect on the next statement of the open session.
    run(
        &mut root,
        &["REVOKE SELECT ON TABLE sales.orders FROM USER alice"],
    )
    .await;
    expect_error(
        &mut alice,
        "SELECT * FROM orders",
        ACCESS_DENIED,
        &denied("SELECT", "TABLE orders", "NONE", "NONE"),
    )
    .await;

    // A role for backups, as the StarRocks docs grant it.
    run(
        &mut root,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo_dir.path().display()
            ),
            "CREATE ROLE backup_operator",
            "GRANT REPOSITORY ON SYSTEM TO ROLE backup_operator",
            "GRANT EXPORT ON ALL TABLES IN DATABASE sales TO ROLE backup_operator",
            "GRANT backup_operator TO USER alice",
        ],
    )
    .await;
    // Granted but not active in the open session: StarRocks says which role to activate.
    expect_error(
        &mut alice,
        "SHOW REPOSITORIES",
        ACCESS_DENIED,
        &denied("REPOSITORY", "SYSTEM", "NONE", "backup_operator"),
    )
    .await;
    expect_error(
        &mut alice,
        "SET ROLE db_admin",
        5064,
        "Getting analyzing error. Detail message: Role db_admin is not granted to 'alice'@'%'.",
    )
    .await;
    run(&mut alice, &["SET ROLE backup_operator"]).await;
    assert_eq!(
        value(&mut alice, "SELECT CURRENT_ROLE()").await,
        "backup_operator"
    );
    assert_eq!(rows(&mut alice, "SHOW REPOSITORIES").await.len(), 1);
    // EXPORT covers sales, not hr.
    expect_error(
        &mut alice,
        "BACKUP SNAPSHOT hr.snap_hr TO repo",
        ACCESS_DENIED,
        &denied("EXPORT", "TABLE pay", "backup_operator", "NONE"),
    )
    .await;
    run(&mut alice, &["BACKUP SNAPSHOT sales.snap1 TO repo"]).await;
    let row = wait_for_backup_state(&mut alice, "sales", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let ts = snapshot_timestamp(&mut alice, "repo", "snap1").await;
    // SHOW BACKUP shows the jobs of databases whose tables the session may export.
    run(&mut root, &["BACKUP SNAPSHOT hr.by_root TO repo"]).await;
    wait_for_backup_state(&mut root, "hr", &["FINISHED"]).await;
    assert!(rows(&mut alice, "SHOW BACKUP FROM hr").await.is_empty());
    assert_eq!(rows(&mut alice, "SHOW BACKUP FROM sales").await.len(), 1);
    // Without FROM: every database's job for root, only the exportable ones for alice.
    assert_eq!(rows(&mut root, "SHOW BACKUP").await.len(), 2);
    let listed = rows(&mut alice, "SHOW BACKUP").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0][2], "sales");
    // RESTORE into a new database needs CREATE DATABASE on the catalog.
    let restore = format!(
        "RESTORE SNAPSHOT sales_copy.snap1 FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
    );
    expect_error(
        &mut alice,
        &restore,
        ACCESS_DENIED,
        &denied(
            "CREATE DATABASE",
            "CATALOG default_catalog",
            "backup_operator",
            "NONE",
        ),
    )
    .await;
    // Restoring over an existing table needs INSERT on it.
    let restore_over = format!(
        "RESTORE SNAPSHOT snap1 FROM repo DATABASE sales ON (TABLE orders) \
         PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
    );
    run(
        &mut root,
        &["GRANT CREATE TABLE ON DATABASE sales TO ROLE backup_operator"],
    )
    .await;
    expect_error(
        &mut alice,
        &restore_over,
        ACCESS_DENIED,
        &denied("INSERT", "TABLE orders", "backup_operator", "NONE"),
    )
    .await;
    run(
        &mut root,
        &["GRANT CREATE DATABASE ON CATALOG default_catalog TO ROLE backup_operator"],
    )
    .await;
    run(&mut alice, &[&restore]).await;
    let row = wait_for_restore_state(&mut alice, "sales_copy", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        value(&mut root, "SELECT count(*) FROM sales_copy.orders").await,
        "3"
    );

    // SHOW GRANTS, as the user and as an admin.
    let own = rows(&mut alice, "SHOW GRANTS").await;
    assert_eq!(
        own,
        vec![
            vec![
                "'alice'@'%'".to_string(),
                "NULL".to_string(),
                "GRANT 'backup_operator' TO 'alice'@'%'".to_string()
            ],
            vec![
                "'alice'@'%'".to_string(),
                "default_catalog".to_string(),
                "GRANT SELECT ON TABLE sales.payroll_size TO USER 'alice'@'%'".to_string()
            ],
        ]
    );
    assert_eq!(rows(&mut root, "SHOW GRANTS FOR alice").await, own);
    let role = rows(&mut alice, "SHOW GRANTS FOR ROLE backup_operator").await;
    let lines: Vec<&str> = role.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "GRANT REPOSITORY ON SYSTEM TO ROLE 'backup_operator'",
            "GRANT CREATE DATABASE ON CATALOG default_catalog TO ROLE 'backup_operator'",
            "GRANT CREATE TABLE ON DATABASE sales TO ROLE 'backup_operator'",
            "GRANT EXPORT ON ALL TABLES IN DATABASE sales TO ROLE 'backup_operator'",
        ]
    );
    let roles: Vec<String> = rows(&mut root, "SHOW ROLES")
        .await
        .into_iter()
        .map(|r| format!("{}:{}", r[0], r[1]))
        .collect();
    assert_eq!(
        roles,
        vec![
            "backup_operator:false",
            "db_admin:true",
            "public:true",
            "root:true",
            "user_admin:true"
        ]
    );

    // Default roles are active at login; a revoked role stops working at once.
    run(&mut root, &["SET DEFAULT ROLE backup_operator TO alice"]).await;
    let mut alice2 = login(&server, "alice", "pw").await;
    assert_eq!(
        value(&mut alice2, "SELECT CURRENT_ROLE()").await,
        "backup_operator"
    );
    run(&mut root, &["REVOKE backup_operator FROM USER alice"]).await;
    for conn in [&mut alice, &mut alice2] {
        expect_error(
            conn,
            "SHOW REPOSITORIES",
            ACCESS_DENIED,
            &denied("REPOSITORY", "SYSTEM", "NONE", "NONE"),
        )
        .await;
    }
    // Built-in roles: user_admin manages accounts, db_admin the data and backups.
    run(
        &mut root,
        &[
            "CREATE USER admin2 IDENTIFIED BY 'pw' DEFAULT ROLE user_admin",
            "CREATE USER dba IDENTIFIED BY 'pw' DEFAULT ROLE db_admin",
        ],
    )
    .await;
    let mut admin2 = login(&server, "admin2", "pw").await;
    run(
        &mut admin2,
        &[
            "CREATE USER eve",
            "GRANT SELECT ON TABLE hr.pay TO USER eve",
        ],
    )
    .await;
    expect_error(
        &mut admin2,
        "SELECT * FROM hr.pay",
        ACCESS_DENIED,
        &denied("SELECT", "TABLE pay", "user_admin", "NONE"),
    )
    .await;
    let mut dba = login(&server, "dba", "pw").await;
    assert_eq!(value(&mut dba, "SELECT count(*) FROM hr.pay").await, "2");
    run(&mut dba, &["BACKUP SNAPSHOT hr.snap_hr TO repo"]).await;
    wait_for_backup_state(&mut dba, "hr", &["FINISHED"]).await;
    expect_error(
        &mut dba,
        "CREATE USER x",
        ACCESS_DENIED,
        &denied("GRANT", "SYSTEM", "db_admin", "NONE"),
    )
    .await;
    expect_error(
        &mut root,
        "GRANT SELECT ON SYSTEM TO ROLE backup_operator",
        5064,
        "Getting analyzing error. Detail message: SELECT is not a privilege of SYSTEM.",
    )
    .await;
    for (sql, code, message) in [
        (
            "GRANT nope TO USER alice",
            5064,
            "Getting analyzing error. Detail message: cannot find role nope.",
        ),
        (
            "GRANT SELECT ON TABLE sales.orders TO USER ghost",
            5064,
            "Getting analyzing error. Detail message: cannot find user 'ghost'@'%'.",
        ),
        (
            "GRANT SELECT ON TABLE sales.orders TO ROLE nope",
            5064,
            "Getting analyzing error. Detail message: cannot find role nope.",
        ),
        (
            "REVOKE root FROM USER root",
            5064,
            "Getting analyzing error. Detail message: role root cannot be revoked from user 'root'@'%'.",
        ),
        (
            "CREATE ROLE backup_operator",
            1396,
            "Operation CREATE ROLE failed for backup_operator",
        ),
        (
            "GRANT SELECT ON CATALOG other TO ROLE backup_operator",
            5064,
            "Getting analyzing error. Detail message: Unknown catalog 'other'.",
        ),
    ] {
        expect_error(&mut root, sql, code, message).await;
    }
    assert_eq!(
        server_error(
            root.query_drop("GRANT SELEC ON TABLE sales.orders TO alice")
                .await
        )
        .0,
        1064
    );
    expect_error(
        &mut root,
        "DROP ROLE root",
        5064,
        "Getting analyzing error. Detail message: root is a built-in role and cannot be dropped.",
    )
    .await;
    drop((alice, alice2, admin2, dba, root));
    server.stop().await;

    // Accounts, roles and grants survive a restart.
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut eve = Conn::new(server.opts("eve", None, None))
        .await
        .expect("eve logs in");
    assert_eq!(value(&mut eve, "SELECT count(*) FROM hr.pay").await, "2");
    let mut root = server.conn().await;
    assert_eq!(
        rows(&mut root, "SHOW GRANTS FOR ROLE backup_operator")
            .await
            .len(),
        4
    );
    drop((eve, root));
    server.stop().await;
}

/// A view's unqualified table names are its own database's, whatever the session's current one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_resolve_their_tables_in_their_own_database() {
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    setup_data(&mut root).await;
    run(
        &mut root,
        &[
            "CREATE VIEW sales.order_count AS SELECT count(*) AS n FROM orders",
            "CREATE TABLE hr.orders (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
            "USE hr",
        ],
    )
    .await;
    assert_eq!(
        value(&mut root, "SELECT n FROM sales.order_count").await,
        "3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_all_roles_on_login() {
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    run(
        &mut root,
        &[
            "CREATE ROLE reader",
            "CREATE DATABASE d",
            "CREATE TABLE d.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
            "GRANT SELECT ON ALL TABLES IN ALL DATABASES TO ROLE reader",
            "CREATE USER u IDENTIFIED BY 'pw'",
            "GRANT reader TO USER u",
        ],
    )
    .await;
    let mut u = login(&server, "u", "pw").await;
    assert_eq!(value(&mut u, "SELECT CURRENT_ROLE()").await, "NONE");
    run(&mut root, &["SET GLOBAL activate_all_roles_on_login = ON"]).await;
    let mut u = login(&server, "u", "pw").await;
    assert_eq!(value(&mut u, "SELECT CURRENT_ROLE()").await, "reader");
    assert_eq!(value(&mut u, "SELECT count(*) FROM d.t").await, "0");
    run(&mut u, &["SET ROLE NONE"]).await;
    assert_eq!(
        server_error(u.query_drop("SELECT count(*) FROM d.t").await).0,
        ACCESS_DENIED
    );
}

/// Roles granted to roles, as StarRocks has them: a role holds the privileges of the roles
/// granted to it (through any depth), SHOW GRANTS FOR ROLE lists them, IS_ROLE_IN_SESSION sees
/// them, a loop is refused, and revoking or dropping the inner role takes its privileges away
/// on the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_granted_to_roles_pass_on_their_privileges() {
    let server = TestServer::start_in(&tempfile::tempdir().unwrap().keep(), "").await;
    let mut root = server.conn().await;
    setup_data(&mut root).await;
    run(
        &mut root,
        &[
            "CREATE ROLE reader",
            "CREATE ROLE analyst",
            "CREATE ROLE lead",
            "GRANT SELECT ON TABLE sales.orders TO ROLE reader",
            "GRANT reader TO ROLE analyst",
            "GRANT analyst TO ROLE lead",
            "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw' DEFAULT ROLE 'lead'",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut root, "SHOW GRANTS FOR ROLE analyst").await[0][2],
        "GRANT 'reader' TO ROLE 'analyst'"
    );
    expect_error(
        &mut root,
        "GRANT lead TO ROLE reader",
        5064,
        "Getting analyzing error. Detail message: role inheritance loop: role reader is already granted to role lead.",
    )
    .await;
    let mut bob = login(&server, "bob", "pw").await;
    assert_eq!(
        value(&mut bob, "SELECT sum(amount) FROM sales.orders").await,
        "60"
    );
    assert_eq!(
        rows(
            &mut bob,
            "SELECT is_role_in_session('lead'), is_role_in_session('reader'), \
             is_role_in_session('root')"
        )
        .await,
        vec![vec!["1", "1", "0"]]
    );
    run(&mut root, &["REVOKE reader FROM ROLE analyst"]).await;
    let (code, _) = server_error(bob.query_drop("SELECT * FROM sales.orders").await);
    assert_eq!(code, ACCESS_DENIED);
    run(
        &mut root,
        &["GRANT reader TO ROLE analyst", "DROP ROLE reader"],
    )
    .await;
    let (code, _) = server_error(bob.query_drop("SELECT * FROM sales.orders").await);
    assert_eq!(code, ACCESS_DENIED);
    // The dropped role is gone from the roles it was granted to.
    assert!(
        rows(&mut root, "SHOW GRANTS FOR ROLE analyst")
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_as_needs_impersonate_and_switches_the_session_for_good() {
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    setup_data(&mut root).await;
    run(
        &mut root,
        &[
            "CREATE USER 'alice'@'%' IDENTIFIED BY 'pw'",
            "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw'",
            "GRANT SELECT ON TABLE sales.orders TO USER 'alice'@'%'",
        ],
    )
    .await;
    let mut bob = login(&server, "bob", "pw").await;
    expect_error(
        &mut bob,
        "EXECUTE AS alice WITH NO REVERT",
        ACCESS_DENIED,
        &denied("IMPERSONATE", "USER 'alice'@'%'", "NONE", "NONE"),
    )
    .await;
    expect_error(
        &mut root,
        "GRANT IMPERSONATE ON USER 'nobody'@'%' TO USER 'bob'@'%'",
        5064,
        "Getting analyzing error. Detail message: cannot find user 'nobody'@'%'.",
    )
    .await;
    run(
        &mut root,
        &["GRANT IMPERSONATE ON USER 'alice'@'%' TO USER 'bob'@'%'"],
    )
    .await;
    assert_eq!(
        rows(&mut root, "SHOW GRANTS FOR 'bob'@'%'").await,
        vec![vec![
            "'bob'@'%'",
            "NULL",
            "GRANT IMPERSONATE ON USER 'alice'@'%' TO USER 'bob'@'%'"
        ]]
    );
    let (code, _) = server_error(bob.query_drop("SELECT * FROM sales.orders").await);
    assert_eq!(code, ACCESS_DENIED);
    expect_error(
        &mut bob,
        "EXECUTE AS alice",
        1235,
        "`EXECUTE AS` must use with `WITH NO REVERT` at current version",
    )
    .await;
    run(&mut bob, &["EXECUTE AS alice WITH NO REVERT"]).await;
    assert_eq!(
        value(&mut bob, "SELECT current_user()").await,
        "'alice'@'%'"
    );
    assert_eq!(
        value(&mut bob, "SELECT sum(amount) FROM sales.orders").await,
        "60"
    );
    // Alice may not impersonate bob: there is no way back.
    let (code, _) = server_error(bob.query_drop("EXECUTE AS bob WITH NO REVERT").await);
    assert_eq!(code, ACCESS_DENIED);
    // Root impersonates anyone; revocation closes the door again.
    run(
        &mut root,
        &["REVOKE IMPERSONATE ON USER 'alice'@'%' FROM USER 'bob'@'%'"],
    )
    .await;
    let mut bob = login(&server, "bob", "pw").await;
    let (code, _) = server_error(bob.query_drop("EXECUTE AS alice WITH NO REVERT").await);
    assert_eq!(code, ACCESS_DENIED);
    run(&mut root, &["EXECUTE AS bob WITH NO REVERT"]).await;
    assert_eq!(value(&mut root, "SELECT current_user()").await, "'bob'@'%'");
    server.stop().await;
}
