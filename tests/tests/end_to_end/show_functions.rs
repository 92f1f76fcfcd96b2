//! `SHOW [GLOBAL] [FULL] [BUILTIN] FUNCTIONS` in StarRocks' columns: no user-defined functions
//! (a database is still required, as in StarRocks), and the built-in list holds every function
//! a query can call: each listed scalar and aggregate function is called here with a few
//! argument lists, and at least one of them must get past name resolution (never StarRocks'
//! "No matching function" for every arity).

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, column, expect_error, named_rows, rows, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_functions_are_listed_and_each_one_resolves() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    expect_error(&mut c, "SHOW FUNCTIONS", 1046, "No database selected").await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    assert!(rows(&mut c, "SHOW FUNCTIONS").await.is_empty());
    assert!(rows(&mut c, "SHOW GLOBAL FUNCTIONS").await.is_empty());
    assert_eq!(
        rows(&mut c, "SHOW BUILTIN FUNCTIONS LIKE 'time_s%'").await,
        vec![vec!["time_slice"]]
    );
    let full = named_rows(&mut c, "SHOW FULL BUILTIN FUNCTIONS").await;
    let names: Vec<&str> = full[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Signature",
            "Return Type",
            "Function Type",
            "Intermediate Type",
            "Properties"
        ]
    );
    let kind_of = |name: &str| {
        full.iter()
            .find(|r| column(r, "Signature") == name)
            .map(|r| column(r, "Function Type").to_string())
    };
    assert_eq!(kind_of("percentile_disc").as_deref(), Some("Aggregate"));
    assert_eq!(kind_of("days_add").as_deref(), Some("Scalar"));
    assert_eq!(kind_of("row_number").as_deref(), Some("Window"));
    assert!(
        full.iter()
            .all(|r| !column(r, "Signature").starts_with("__"))
    );
    assert!(full.len() > 300, "{} functions", full.len());

    let argument_lists = ["", "1", "1, 2", "1, 2, 3", "1, 2, 3, 4", "x -> x > 0, [1]"];
    let mut unresolved = Vec::new();
    for row in &full {
        let (name, kind) = (column(row, "Signature"), column(row, "Function Type"));
        if matches!(kind, "Table" | "Window") || name == "sleep" {
            continue;
        }
        let mut resolved = false;
        for args in argument_lists {
            match c.query_drop(format!("SELECT {name}({args})")).await {
                Err(mysql_async::Error::Server(e))
                    if e.message.contains("No matching function with signature") => {}
                Err(mysql_async::Error::Server(_)) | Ok(()) => {
                    resolved = true;
                    break;
                }
                Err(other) => panic!("{name}: {other}"),
            }
        }
        if !resolved {
            unresolved.push(name.to_string());
        }
    }
    assert!(
        unresolved.is_empty(),
        "listed but not callable: {unresolved:?}"
    );
    server.stop().await;
}
