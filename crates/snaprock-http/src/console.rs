//! The backup console: one page (`assets/console.html`, `.js`, `.css`, embedded in the
//! binary, no external requests) that polls two JSON endpoints. Every figure comes from what
//! the logged-in account's own SHOW statements may show: the databases of `SHOW DATABASES`
//! (jobs and history are filtered to them), the repositories of `SHOW REPOSITORIES` and their
//! `SHOW SNAPSHOT` lists. Read-only: nothing here changes anything.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use snaprock_exec::{Engine, Output, Session};

use crate::auth::login;
use crate::health::HttpState;
use crate::routes::{Body, error, json_response, respond};

const PAGE: &str = include_str!("../assets/console.html");
const SCRIPT: &str = include_str!("../assets/console.js");
const STYLE: &str = include_str!("../assets/console.css");

/// The page, once logged in (so the browser asks for the login first).
pub(crate) async fn page(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Response<Body> {
    if let Err(response) = login(state, headers, peer).await {
        return response;
    }
    let mut response = respond(StatusCode::OK, "text/html; charset=utf-8", PAGE);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_SECURITY_POLICY,
        hyper::header::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        hyper::header::X_FRAME_OPTIONS,
        hyper::header::HeaderValue::from_static("DENY"),
    );
    response
}

pub(crate) fn script() -> Response<Body> {
    respond(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT)
}

pub(crate) fn style() -> Response<Body> {
    respond(StatusCode::OK, "text/css; charset=utf-8", STYLE)
}

/// `{"user", "now", "jobs": [...], "history": [...]}`: the latest job of each database the
/// account sees, and the ended jobs of those databases.
pub(crate) async fn data(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Response<Body> {
    let (engine, mut session) = match console_session(state, headers, peer).await {
        Ok(logged_in) => logged_in,
        Err(response) => return response,
    };
    let user = session.identity_text();
    let databases: BTreeSet<String> = match show(&mut session, "SHOW DATABASES").await {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect(),
        Err(message) => return error(StatusCode::INTERNAL_SERVER_ERROR, &message),
    };
    let jobs: Vec<_> = engine
        .backup
        .job_views()
        .into_iter()
        .filter(|job| databases.contains(&job.database))
        .collect();
    let history: Vec<_> = engine
        .backup
        .history()
        .jobs()
        .into_iter()
        .filter(|job| databases.contains(&job.database))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "user": user,
            "now": now_ms(),
            "jobs": jobs,
            "history": history,
        }),
    )
}

/// `{"repositories": [{"name", "location", "read_only", "error", "snapshots": [...]}]}`: what
/// SHOW REPOSITORIES and SHOW SNAPSHOT show the account (nothing when it may not see them).
pub(crate) async fn repositories(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Response<Body> {
    let (_, mut session) = match console_session(state, headers, peer).await {
        Ok(logged_in) => logged_in,
        Err(response) => return response,
    };
    let listed = show_objects(&mut session, "SHOW REPOSITORIES")
        .await
        .unwrap_or_default();
    let mut repositories = Vec::new();
    for repository in listed {
        let name = text(&repository, "RepoName");
        let sql = format!("SHOW SNAPSHOT ON `{}`", name.replace('`', "``"));
        let (snapshots, failure) = match show_objects(&mut session, &sql).await {
            Ok(snapshots) => (snapshots, None),
            Err(message) => (Vec::new(), Some(message)),
        };
        repositories.push(json!({
            "name": name,
            "location": text(&repository, "Location"),
            "read_only": text(&repository, "IsReadOnly") == "true",
            "error": failure,
            "snapshots": snapshots,
        }));
    }
    json_response(StatusCode::OK, &json!({ "repositories": repositories }))
}

/// The engine and a console session of the account the request logs in as, or the response
/// to send instead (401, or 503 while the server starts).
async fn console_session(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<(Arc<Engine>, Session), Response<Body>> {
    let identity = login(state, headers, peer).await?;
    let engine = state
        .engine()
        .ok_or_else(|| error(StatusCode::SERVICE_UNAVAILABLE, "the server is starting"))?
        .clone();
    let session = engine.console_session(identity);
    Ok((engine, session))
}

fn text(object: &Map<String, Value>, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Runs a SHOW statement in `session`; its rows as text cells, or the error's text.
async fn show(session: &mut Session, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    Ok(show_table(session, sql).await?.1)
}

/// Runs a SHOW statement; each row as an object keyed by column name.
async fn show_objects(session: &mut Session, sql: &str) -> Result<Vec<Map<String, Value>>, String> {
    let (columns, rows) = show_table(session, sql).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .cloned()
                .zip(
                    row.into_iter()
                        .map(|cell| cell.map_or(Value::Null, Value::String)),
                )
                .collect()
        })
        .collect())
}

async fn show_table(
    session: &mut Session,
    sql: &str,
) -> Result<(Vec<String>, Vec<Vec<Option<String>>>), String> {
    match session.execute_one(sql).await {
        Ok(Output::Rows(result)) => result.text_rows().await.map_err(|e| e.to_string()),
        Ok(Output::Ok { .. }) => Ok((Vec::new(), Vec::new())),
        Err(e) => Err(e.to_string()),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
