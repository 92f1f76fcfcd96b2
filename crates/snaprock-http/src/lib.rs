//! The HTTP listener beside the MySQL one, on StarRocks' FE HTTP port (8030 by default):
//!
//! * `GET /api/health` (`health.rs`): 200 while the server serves, 503 while it starts or shuts
//!   down; for load balancers and orchestrators, without login, revealing nothing;
//! * `GET /metrics`: Prometheus' text exposition of the engine's registry
//!   (`snaprock_exec::metrics`);
//! * `GET /` and `GET /api/console` (`console.rs`): the read-only backup console, for a
//!   snaprock account (HTTP Basic, `auth.rs`), showing what that account's SHOW statements show.
//!
//! `listener.rs` accepts connections (TLS with the MySQL certificate when there is one) with
//! the same limits as the MySQL side: a connection cap, a header timeout, a small request size;
//! `routes.rs` maps a request to its handler.

mod auth;
mod console;
mod health;
mod listener;
mod routes;

pub use health::HttpState;
pub use listener::serve;
