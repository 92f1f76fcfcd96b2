//! Errors of repository and backup statements, and of remote storage.
//!
//! A statement error carries the class StarRocks answers with (syntax, analysis, DDL, ...) and
//! the full text; `snaprock-mysql`'s `error_codes` turns the class into a MySQL error code.

/// Which of StarRocks' error classes a statement error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupErrorKind {
    /// Rejected by the parser (1064).
    Syntax,
    /// Rejected by the analyzer without an error code (1064).
    Semantic,
    /// ERR_COMMON_ERROR (5064): analyzer and execution errors.
    Common,
    /// ERR_WRONG_LABEL_NAME (5082).
    WrongLabel,
    /// ERR_WRONG_TABLE_NAME (1104).
    WrongTableName,
    /// ERR_BAD_DB_ERROR: the server answers unknown databases with MySQL's 1049 everywhere.
    UnknownDatabase,
    /// No current database and none named (1046).
    NoDatabaseSelected,
    /// The server itself failed (1105).
    Internal,
}

/// A backup statement that failed; `message` is the exact text the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackupError {
    pub kind: BackupErrorKind,
    pub message: String,
}

impl BackupError {
    fn new(kind: BackupErrorKind, message: String) -> Self {
        BackupError { kind, message }
    }

    /// StarRocks parser rule: `Getting syntax error. Detail message: <msg>.`
    pub fn syntax(detail: impl std::fmt::Display) -> Self {
        Self::new(
            BackupErrorKind::Syntax,
            format!("Getting syntax error. Detail message: {detail}."),
        )
    }

    /// Analyzer error without a code (1064).
    pub fn semantic(detail: impl std::fmt::Display) -> Self {
        Self::new(
            BackupErrorKind::Semantic,
            format!("Getting analyzing error. Detail message: {detail}."),
        )
    }

    /// Analyzer error with ERR_COMMON_ERROR (5064).
    pub fn analysis(detail: impl std::fmt::Display) -> Self {
        Self::new(
            BackupErrorKind::Common,
            format!("Getting analyzing error. Detail message: {detail}."),
        )
    }

    /// Execution error (DdlException, 5064): the bare message.
    pub fn ddl(message: impl std::fmt::Display) -> Self {
        Self::new(BackupErrorKind::Common, message.to_string())
    }

    pub fn wrong_label(label: &str) -> Self {
        Self::new(
            BackupErrorKind::WrongLabel,
            format!("Getting analyzing error. Detail message: Incorrect label name '{label}'."),
        )
    }

    pub fn wrong_table_name(table: &str) -> Self {
        Self::new(
            BackupErrorKind::WrongTableName,
            format!("Getting analyzing error. Detail message: Incorrect table name '{table}'."),
        )
    }

    pub fn unknown_database(db: &str) -> Self {
        Self::new(
            BackupErrorKind::UnknownDatabase,
            format!("Unknown database '{db}'"),
        )
    }

    pub fn no_database_selected() -> Self {
        Self::new(
            BackupErrorKind::NoDatabaseSelected,
            "No database selected".to_string(),
        )
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(BackupErrorKind::Internal, message.to_string())
    }
}

/// Result type of this crate's statements.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;

/// Why a remote storage operation failed. The texts never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error(
        "access denied by the storage ({0}): check aws.s3.access_key / aws.s3.secret_key and the bucket policy"
    )]
    Denied(String),
    #[error("bucket '{0}' does not exist")]
    NoBucket(String),
    #[error("cannot reach the storage endpoint: {0}")]
    Unreachable(String),
    #[error("checksum mismatch for {key}: expected {expected}, got {actual}")]
    Checksum {
        key: String,
        expected: String,
        actual: String,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub fn io(context: impl std::fmt::Display, e: std::io::Error) -> Self {
        StoreError::Io(format!("{context}: {e}"))
    }
}
