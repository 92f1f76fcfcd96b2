//! Storage volume statements (issue 15) against a real S3 server: CREATE / ALTER / DROP / DESC
//! STORAGE VOLUME, SHOW STORAGE VOLUMES and SET ... AS DEFAULT answer as StarRocks does, every
//! refusal leaves the volumes as they were, secrets never show, volumes survive a restart, and
//! databases and tables naming a volume are checked against it.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3};
use snaprock_tests::{
    ServerProcess, TestServer, expect_error, rows, run, server_error, snaprock_binary,
};

const COMMON: u16 = 5064;
const NOT_SUPPORTED: u16 = 1235;

/// CREATE STORAGE VOLUME `name` on `s3://<bucket>/<prefix>` of the test store.
fn create_sql(s3: &TestS3, name: &str, prefix: &str, secret: &str) -> String {
    format!(
        "CREATE STORAGE VOLUME {name} TYPE = S3 LOCATIONS = (\"s3://{BUCKET}/{prefix}\") \
         COMMENT 'volume {name}' PROPERTIES (\"aws.s3.region\" = \"us-east-1\", \
         \"aws.s3.endpoint\" = \"{}\", \"aws.s3.access_key\" = \"{ACCESS_KEY}\", \
         \"aws.s3.secret_key\" = \"{secret}\", \"aws.s3.enable_path_style_access\" = \"true\")",
        s3.endpoint()
    )
}

/// DESC STORAGE VOLUME as (column, value) pairs.
async fn describe(c: &mut Conn, name: &str) -> Vec<(String, String)> {
    let result: Vec<mysql_async::Row> = c
        .query(format!("DESC STORAGE VOLUME {name}"))
        .await
        .unwrap();
    assert_eq!(result.len(), 1);
    let row = &result[0];
    row.columns_ref()
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let value: Option<String> = row.get(i);
            (col.name_str().to_string(), value.unwrap_or_default())
        })
        .collect()
}

fn field<'a>(desc: &'a [(String, String)], name: &str) -> &'a str {
    &desc.iter().find(|(k, _)| k == name).unwrap().1
}

/// What a volume's location holds besides the catalog its writer publishes.
fn volume_leftovers(s3: &TestS3, prefix: &str) -> Vec<String> {
    let mut files = snaprock_tests::s3::files_under(&s3.bucket_dir().join(prefix));
    files.retain(|f| f != "snaprock/catalog.json");
    files
}

async fn volume_names(c: &mut Conn) -> Vec<String> {
    rows(c, "SHOW STORAGE VOLUMES")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_volume_statements_answer_as_starrocks() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert!(volume_names(&mut c).await.is_empty());

    run(&mut c, &[&create_sql(&s3, "sv", "vol1", SECRET_KEY)]).await;
    // The store was reached: the probe object is gone again; the location is marked as this
    // server's. Another server that makes a volume of it follows it: it never writes there.
    assert_eq!(volume_leftovers(&s3, "vol1"), vec!["snaprock/owner.json"]);
    let other = TestServer::start().await;
    let mut o = other.conn().await;
    run(&mut o, &[&create_sql(&s3, "followed", "vol1", SECRET_KEY)]).await;
    assert_eq!(volume_names(&mut o).await, vec!["followed"]);
    let read_only = "Storage volume 'followed' is read-only on this server: its location is \
                     written by another snaprock server";
    for sql in [
        "CREATE DATABASE d PROPERTIES (\"storage_volume\" = \"followed\")",
        "SET followed AS DEFAULT STORAGE VOLUME",
    ] {
        let (code, message) = server_error(o.query_drop(sql).await);
        assert_eq!(code, COMMON, "{sql}");
        assert!(message.starts_with(read_only), "{sql}: {message}");
    }
    assert!(rows(&mut o, "SHOW DATABASES LIKE 'd'").await.is_empty());
    assert_eq!(volume_leftovers(&s3, "vol1"), vec!["snaprock/owner.json"]);
    assert_eq!(volume_names(&mut c).await, vec!["sv"]);
    let desc = describe(&mut c, "sv").await;
    let columns: Vec<&str> = desc.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        columns,
        [
            "Name",
            "Type",
            "IsDefault",
            "Location",
            "Params",
            "Enabled",
            "Comment"
        ]
    );
    assert_eq!(field(&desc, "Name"), "sv");
    assert_eq!(field(&desc, "Type"), "S3");
    assert_eq!(field(&desc, "IsDefault"), "false");
    assert_eq!(field(&desc, "Location"), format!("s3://{BUCKET}/vol1"));
    assert_eq!(field(&desc, "Enabled"), "true");
    assert_eq!(field(&desc, "Comment"), "volume sv");
    let params: serde_json::Value = serde_json::from_str(field(&desc, "Params")).unwrap();
    assert_eq!(params["aws.s3.region"], "us-east-1");
    assert_eq!(params["aws.s3.endpoint"], s3.endpoint().as_str());
    assert_eq!(params["aws.s3.secret_key"], "******");
    assert_eq!(params["aws.s3.access_key"], "******");

    // Refusals: each leaves the volumes as they were.
    expect_error(
        &mut c,
        &create_sql(&s3, "sv", "vol2", SECRET_KEY),
        COMMON,
        "Storage volume 'sv' already exists",
    )
    .await;
    run(
        &mut c,
        &[&create_sql(&s3, "sv", "vol2", SECRET_KEY)
            .replace("VOLUME sv", "VOLUME IF NOT EXISTS sv")],
    )
    .await;
    assert_eq!(
        field(&describe(&mut c, "sv").await, "Location"),
        format!("s3://{BUCKET}/vol1")
    );
    let (code, message) = server_error(
        c.query_drop(create_sql(&s3, "bad", "vol3", "Wr0ng-secret-4711"))
            .await,
    );
    assert_eq!(code, COMMON);
    assert!(
        message.starts_with("Failed to create storage volume: the store cannot be used"),
        "{message}"
    );
    assert!(!message.contains("Wr0ng-secret-4711") && !message.contains(SECRET_KEY));
    let hdfs = create_sql(&s3, "h", "x", SECRET_KEY).replace("TYPE = S3", "TYPE = HDFS");
    let (code, _) = server_error(c.query_drop(&hdfs).await);
    assert_eq!(code, NOT_SUPPORTED);
    let unknown_key = create_sql(&s3, "k", "x", SECRET_KEY)
        .replace("PROPERTIES (", "PROPERTIES (\"aws.s3.colour\" = \"red\", ");
    let (code, message) = server_error(c.query_drop(&unknown_key).await);
    assert_eq!(code, COMMON);
    assert!(
        message.contains("unknown property 'aws.s3.colour'"),
        "{message}"
    );
    let two = create_sql(&s3, "two", "a", SECRET_KEY).replace(
        "LOCATIONS = (\"s3://backups/a\")",
        "LOCATIONS = ('s3://backups/a', 's3://backups/b')",
    );
    let (code, message) = server_error(c.query_drop(&two).await);
    assert_eq!(code, COMMON, "{message}");
    let builtin = create_sql(&s3, "builtin_storage_volume", "b", SECRET_KEY);
    let (code, _) = server_error(c.query_drop(&builtin).await);
    assert_eq!(code, COMMON);
    assert_eq!(volume_names(&mut c).await, vec!["sv"]);

    // ALTER: comment, enabled, credentials (checked against the store before they are kept).
    run(
        &mut c,
        &["ALTER STORAGE VOLUME sv COMMENT = 'sales data', SET (\"enabled\" = \"false\")"],
    )
    .await;
    let desc = describe(&mut c, "sv").await;
    assert_eq!(
        (field(&desc, "Comment"), field(&desc, "Enabled")),
        ("sales data", "false")
    );
    expect_error(
        &mut c,
        "SET sv AS DEFAULT STORAGE VOLUME",
        COMMON,
        "Storage volume 'sv' is disabled",
    )
    .await;
    let wrong_keys = "ALTER STORAGE VOLUME sv SET (\"aws.s3.secret_key\" = \"Wr0ng-secret-4711\")";
    let (code, message) = server_error(c.query_drop(wrong_keys).await);
    assert_eq!(code, COMMON);
    assert!(
        message.starts_with("Failed to alter storage volume"),
        "{message}"
    );
    run(
        &mut c,
        &[
            "ALTER STORAGE VOLUME sv SET (\"enabled\" = \"true\")",
            "SET sv AS DEFAULT STORAGE VOLUME",
        ],
    )
    .await;
    assert_eq!(field(&describe(&mut c, "sv").await, "IsDefault"), "true");
    expect_error(
        &mut c,
        "ALTER STORAGE VOLUME sv SET (\"enabled\" = \"false\")",
        COMMON,
        "Default volume can not be disabled",
    )
    .await;
    expect_error(
        &mut c,
        "DROP STORAGE VOLUME sv",
        COMMON,
        "default storage volume can not be removed",
    )
    .await;
    expect_error(
        &mut c,
        "DESC STORAGE VOLUME nope",
        COMMON,
        "Storage volume 'nope' does not exist",
    )
    .await;
    expect_error(
        &mut c,
        "DROP STORAGE VOLUME nope",
        COMMON,
        "Storage volume 'nope' does not exist",
    )
    .await;
    expect_error(
        &mut c,
        "SET nope AS DEFAULT STORAGE VOLUME",
        COMMON,
        "Storage volume 'nope' does not exist",
    )
    .await;
    run(
        &mut c,
        &[
            "DROP STORAGE VOLUME IF EXISTS nope",
            "ALTER STORAGE VOLUME IF EXISTS nope COMMENT = 'x'",
        ],
    )
    .await;

    // A second volume; LIKE; dropping one that is not the default.
    run(&mut c, &[&create_sql(&s3, "sv2", "vol2", SECRET_KEY)]).await;
    assert_eq!(volume_names(&mut c).await, vec!["sv", "sv2"]);
    assert_eq!(
        rows(&mut c, "SHOW STORAGE VOLUMES LIKE '%2'").await,
        vec![vec!["sv2".to_string()]]
    );
    run(
        &mut c,
        &[
            "SET sv2 AS DEFAULT STORAGE VOLUME",
            "DROP STORAGE VOLUME sv",
        ],
    )
    .await;
    assert_eq!(volume_names(&mut c).await, vec!["sv2"]);

    // Databases and tables naming a volume: an unknown one is refused by name.
    for sql in [
        "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"nope\")",
        "CREATE TABLE t (k INT) PROPERTIES (\"storage_volume\" = \"nope\")",
    ] {
        run(
            &mut c,
            &["CREATE DATABASE IF NOT EXISTS plain", "USE plain"],
        )
        .await;
        expect_error(&mut c, sql, COMMON, "Unknown storage volume \"nope\"").await;
    }
    run(
        &mut c,
        &["CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv2\")"],
    )
    .await;
    assert_eq!(rows(&mut c, "SHOW DATABASES LIKE 'sd'").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_volumes_need_their_privilege() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    run(
        &mut root,
        &[
            "CREATE USER alice IDENTIFIED BY 'pw'",
            &create_sql(&s3, "sv", "v", SECRET_KEY),
        ],
    )
    .await;
    let mut alice = Conn::new(server.opts("alice", Some("pw"), None))
        .await
        .unwrap();
    // SHOW needs no privilege; the rest need CREATE STORAGE VOLUME on the system.
    assert_eq!(volume_names(&mut alice).await, vec!["sv"]);
    for sql in [
        create_sql(&s3, "sv9", "v9", SECRET_KEY),
        "DESC STORAGE VOLUME sv".to_string(),
        "ALTER STORAGE VOLUME sv COMMENT = 'x'".to_string(),
        "SET sv AS DEFAULT STORAGE VOLUME".to_string(),
        "DROP STORAGE VOLUME sv".to_string(),
    ] {
        let (code, message) = server_error(alice.query_drop(&sql).await);
        assert_eq!(code, 5203, "{sql}: {message}");
        assert!(
            message.contains("CREATE STORAGE VOLUME privilege(s) on SYSTEM"),
            "{message}"
        );
    }
    run(
        &mut root,
        &["GRANT CREATE STORAGE VOLUME ON SYSTEM TO USER alice"],
    )
    .await;
    let grants = rows(&mut root, "SHOW GRANTS FOR alice").await;
    assert!(
        grants
            .iter()
            .flatten()
            .any(|g| g.contains("GRANT CREATE STORAGE VOLUME ON SYSTEM")),
        "{grants:?}"
    );
    run(
        &mut alice,
        &["ALTER STORAGE VOLUME sv COMMENT = 'by alice'"],
    )
    .await;
    assert_eq!(
        field(&describe(&mut alice, "sv").await, "Comment"),
        "by alice"
    );
}

/// The real binary: volumes and the default survive kill -9 and a restart, and no secret
/// reaches the log (at trace level) or any answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_volumes_survive_a_restart_and_keep_their_secrets() {
    assert!(
        snaprock_binary().exists(),
        "build the server first: cargo build -p snaprock"
    );
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let log = work.path().join("server.log");
    let server = ServerProcess::start_with_log(&data, Some((&log, "trace"))).await;
    let mut c = server.conn().await;
    let wrong = "Wr0ng-secret-never-shown-0816";
    let mut answers = vec![server_error(c.query_drop(create_sql(&s3, "bad", "b", wrong)).await).1];
    run(
        &mut c,
        &[
            &create_sql(&s3, "sv", "vol", SECRET_KEY),
            "SET sv AS DEFAULT STORAGE VOLUME",
            &format!("ALTER STORAGE VOLUME sv SET (\"aws.s3.secret_key\" = \"{SECRET_KEY}\")"),
        ],
    )
    .await;
    answers.push(
        server_error(
            c.query_drop(format!(
                "ALTER STORAGE VOLUME sv SET (\"aws.s3.secret_key\" = \"{wrong}\")"
            ))
            .await,
        )
        .1,
    );
    for sql in [
        "SHOW STORAGE VOLUMES",
        "DESC STORAGE VOLUME sv",
        "SHOW PROCESSLIST",
    ] {
        answers.push(format!("{:?}", rows(&mut c, sql).await));
    }
    drop(c);
    server.kill9();

    let log_after = work.path().join("server-restarted.log");
    let server = ServerProcess::start_with_log(&data, Some((&log_after, "trace"))).await;
    let mut c = server.conn().await;
    assert_eq!(volume_names(&mut c).await, vec!["sv"]);
    let desc = describe(&mut c, "sv").await;
    assert_eq!(field(&desc, "IsDefault"), "true");
    assert_eq!(field(&desc, "Comment"), "volume sv");
    answers.push(format!("{desc:?}"));
    drop(c);
    server.kill9();
    let text =
        std::fs::read_to_string(&log).unwrap() + &std::fs::read_to_string(&log_after).unwrap();
    assert!(
        text.contains("storage volume created"),
        "the log was written: {text}"
    );
    for secret in [SECRET_KEY, wrong] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "the log holds a secret: {leaks:#?}");
        for answer in &answers {
            assert!(!answer.contains(secret), "{answer}");
        }
    }
}
