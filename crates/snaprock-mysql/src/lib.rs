//! placeholder
pub use opensrv_mysql;
