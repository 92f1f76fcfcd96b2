//! Accounts, roles and privileges, StarRocks style.
//!
//! Users (`'name'@'host'`) log in with mysql_native_password; only the hash SHA1(SHA1(pw)) is
//! kept. Privileges are granted on objects (SYSTEM, CATALOG, DATABASE, TABLE and their `ALL ...`
//! forms) to users or roles; a session acts with its user's own grants plus those of its active
//! roles (`public` always). Every change is written to `<data-dir>/accounts.json` (mode 0600)
//! before it takes effect, and sessions look the grants up again for every statement, so a
//! REVOKE applies to the next statement of every connection.

mod control;
mod error;
mod grants;
mod password;
mod state;

pub use control::{AccessControl, ROOT_USER};
pub use error::{AccessDenied, AccessError};
pub use grants::{BUILTIN_ROLES, DEFAULT_CATALOG, Grant, Target, grant_text};
pub use password::{native_hash, verify_native_proof};
pub use state::{AccessState, Effective, RoleRecord, UserRecord};

/// Result type of this crate.
pub type Result<T, E = AccessError> = std::result::Result<T, E>;
