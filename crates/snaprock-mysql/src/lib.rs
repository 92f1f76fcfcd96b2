//! The MySQL wire-protocol front end: accepts TCP connections, authenticates clients, and hands
//! their commands to `snaprock-exec` sessions. Protocol framing is opensrv-mysql (vendored with
//! fixes, see `vendor/opensrv-mysql/PATCHES.md`).

mod auth;
mod connection;
mod encode;
mod error_codes;
mod listener;
mod nested_text;
mod params;
mod throttle;
mod tls;

pub use error_codes::mysql_error;
pub use listener::serve;
pub use throttle::LoginThrottle;
pub use tls::TlsSettings;

/// Settings and shared state of the MySQL front end.
#[derive(Debug)]
pub struct ServerConfig {
    /// Failed logins per client address.
    pub login_throttle: LoginThrottle,
    /// TLS, when the server has a certificate.
    pub tls: Option<TlsSettings>,
    /// How long running statements may go on once shutdown begins; then they are ended.
    pub shutdown_grace: std::time::Duration,
    /// Turns true when the server shuts down: idle connections close, busy ones after their
    /// statement.
    pub shutting_down: tokio::sync::watch::Sender<bool>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            login_throttle: LoginThrottle::default(),
            tls: None,
            shutdown_grace: std::time::Duration::from_secs(30),
            shutting_down: tokio::sync::watch::Sender::new(false),
        }
    }
}
