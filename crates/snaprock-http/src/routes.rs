//! One request to its handler, and the responses every handler builds from. Only GET and HEAD
//! are served (the console is read-only); each request is counted in
//! `snaprock_http_requests_total` by route, never by the raw path a client sent.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::health::{Health, HttpState};

pub(crate) type Body = Full<Bytes>;

/// The routes; anything else is 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Health,
    Metrics,
    Console,
    ConsoleScript,
    ConsoleStyle,
    ConsoleData,
    Repositories,
    NotFound,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/api/health" => Route::Health,
            "/metrics" => Route::Metrics,
            "/" | "/console" => Route::Console,
            "/console.js" => Route::ConsoleScript,
            "/console.css" => Route::ConsoleStyle,
            "/api/console" => Route::ConsoleData,
            "/api/repositories" => Route::Repositories,
            _ => Route::NotFound,
        }
    }

    /// The `path` label of the request counter.
    fn label(self) -> &'static str {
        match self {
            Route::Health => "/api/health",
            Route::Metrics => "/metrics",
            Route::Console => "/",
            Route::ConsoleScript => "/console.js",
            Route::ConsoleStyle => "/console.css",
            Route::ConsoleData => "/api/console",
            Route::Repositories => "/api/repositories",
            Route::NotFound => "other",
        }
    }
}

pub(crate) async fn handle(
    state: &HttpState,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let route = Route::of(request.uri().path());
    let response = if !matches!(*request.method(), Method::GET | Method::HEAD) {
        match route {
            Route::NotFound => error(StatusCode::NOT_FOUND, "no such page"),
            _ => {
                let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
        }
    } else {
        match route {
            Route::Health => health(state),
            Route::Metrics => metrics(state),
            Route::Console => crate::console::page(state, request.headers(), peer).await,
            Route::ConsoleScript => crate::console::script(),
            Route::ConsoleStyle => crate::console::style(),
            Route::ConsoleData => crate::console::data(state, request.headers(), peer).await,
            Route::Repositories => {
                crate::console::repositories(state, request.headers(), peer).await
            }
            Route::NotFound => error(StatusCode::NOT_FOUND, "no such page"),
        }
    };
    if let Some(engine) = state.engine() {
        engine
            .metrics
            .http_request(route.label(), response.status().as_u16());
    }
    response
}

/// `{"status": "OK"}` (200) while the server serves; `STARTING` or `SHUTTING_DOWN` with 503.
fn health(state: &HttpState) -> Response<Body> {
    let health = state.health();
    let status = if health == Health::Serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &json!({ "status": health.name() }))
}

/// Prometheus' text exposition; 503 until the engine is open.
fn metrics(state: &HttpState) -> Response<Body> {
    match state.engine() {
        Some(engine) => respond(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            engine.metrics.render(),
        ),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the server is starting"),
    }
}

/// A response that is never cached (health, metrics and console data change all the time).
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    respond(status, "application/json", value.to_string())
}

/// `{"status": "<reason>", "msg": ...}` with the status code.
pub(crate) fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({ "status": status.canonical_reason().unwrap_or("error"), "msg": message }),
    )
}
