//! What the HTTP side knows of the server: the engine once it is open, and whether the server
//! is shutting down; from these, the answer of `/api/health`.

use std::sync::{Arc, OnceLock};

use snaprock_exec::Engine;
use snaprock_mysql::ServerConfig;

/// Shared by every HTTP connection.
pub struct HttpState {
    engine: OnceLock<Arc<Engine>>,
    /// The MySQL side's settings: its login throttle (failed logins count across both
    /// protocols) and its shutdown flag.
    pub(crate) mysql: Arc<ServerConfig>,
}

/// Where the server stands, as `/api/health` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// The data directory is being opened (jobs resumed, catalog loaded).
    Starting,
    Serving,
    ShuttingDown,
}

impl Health {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Health::Starting => "STARTING",
            Health::Serving => "OK",
            Health::ShuttingDown => "SHUTTING_DOWN",
        }
    }
}

impl HttpState {
    /// A server still starting: `/api/health` answers 503 until [`HttpState::serving`].
    pub fn starting(mysql: Arc<ServerConfig>) -> Arc<Self> {
        Arc::new(HttpState {
            engine: OnceLock::new(),
            mysql,
        })
    }

    /// The engine is open: the server serves.
    pub fn serving(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
    }

    pub(crate) fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.get()
    }

    pub(crate) fn health(&self) -> Health {
        if *self.mysql.shutting_down.borrow() {
            Health::ShuttingDown
        } else if self.engine.get().is_none() {
            Health::Starting
        } else {
            Health::Serving
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_until_the_engine_opens_and_shutting_down_once_asked() {
        let config = Arc::new(ServerConfig::default());
        let state = HttpState::starting(config.clone());
        assert_eq!(state.health(), Health::Starting);
        assert_eq!(state.health().name(), "STARTING");
        config.shutting_down.send_replace(true);
        assert_eq!(state.health(), Health::ShuttingDown);
        assert_eq!(state.health().name(), "SHUTTING_DOWN");
    }
}
