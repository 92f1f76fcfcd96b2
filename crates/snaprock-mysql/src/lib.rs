//! The MySQL wire-protocol front end: accepts TCP connections, authenticates clients, and hands
//! their commands to `snaprock-exec` sessions. Protocol framing is opensrv-mysql (vendored with
//! fixes, see `vendor/opensrv-mysql/PATCHES.md`).

mod auth;
mod connection;
mod encode;
mod error_codes;
mod listener;
mod params;

pub use error_codes::mysql_error;
pub use listener::serve;

/// Settings of the MySQL front end.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Password of `root` (empty: no password, as StarRocks ships).
    pub root_password: String,
}
