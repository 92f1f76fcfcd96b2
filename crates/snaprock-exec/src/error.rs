//! Errors of statement execution. The MySQL front end maps each variant to an error code in one
//! place (`snaprock-mysql`'s `error_codes`).

use snaprock_sql::ParseError;
use snaprock_storage::StorageError;

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Backup(#[from] snaprock_backup::BackupError),
    #[error(transparent)]
    Access(#[from] snaprock_access::AccessError),
    /// MySQL's 1044: USE of a database the user holds no privilege on.
    #[error("Access denied for user '{user}'@'{host}' to database '{database}'")]
    DatabaseAccessDenied {
        user: String,
        host: String,
        database: String,
    },
    /// A query string with no statement in it.
    #[error("Query was empty")]
    EmptyQuery,
    /// A string longer than its column's VARCHAR(n) (row counted from 1).
    #[error("Data too long for column '{column}' at row {row}")]
    DataTooLong { column: String, row: usize },
    #[error("No database selected")]
    NoDatabaseSelected,
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    #[error("Table '{0}' doesn't exist")]
    UnknownTable(String),
    #[error("Table '{0}' already exists")]
    TableExists(String),
    /// `SELECT ... FROM t PARTITION (p)` naming partitions the table does not have.
    #[error("Error in list of partitions to [{0}]")]
    UnknownPartitions(String),
    #[error("Unknown column '{column}' in '{context}'")]
    UnknownColumn { column: String, context: String },
    #[error("Duplicate column name '{0}'")]
    DuplicateColumn(String),
    /// An index name a table already has (MySQL's 1061).
    #[error("Duplicate key name '{0}'")]
    DuplicateKeyName(String),
    /// An index on a column the table does not have (MySQL's 1072).
    #[error("Key column '{0}' doesn't exist in table")]
    KeyColumnMissing(String),
    /// DROP INDEX of an index the table does not have (MySQL's 1091).
    #[error("Can't DROP '{0}'; check that column/key exists")]
    CantDropKey(String),
    #[error("Unknown system variable '{0}'")]
    UnknownVariable(String),
    #[error("Variable '{name}' can't be set to the value of '{value}'")]
    WrongValueForVariable { name: String, value: String },
    /// A function called with arguments it cannot take (`SLEEP(-1)`).
    #[error("Incorrect arguments to {0}.")]
    WrongArguments(&'static str),
    #[error("Variable '{0}' is a read only variable")]
    ReadOnlyVariable(String),
    #[error("Variable '{0}' is a GLOBAL variable and should be set with SET GLOBAL")]
    GlobalOnlyVariable(String),
    #[error("SESSION variable '{0}' is read-only. Use SET GLOBAL to assign the value")]
    SessionReadOnlyVariable(String),
    #[error("Unknown thread id: {0}")]
    UnknownThread(u64),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("Invalid value: {0}")]
    InvalidValue(String),
    #[error("{0}")]
    Unsupported(String),
    /// StarRocks' analysis errors (5064): `Getting analyzing error. Detail message: ...`.
    #[error("Getting analyzing error. Detail message: {0}.")]
    Analysis(String),
    /// ADMIN SET FRONTEND CONFIG of a setting snaprock does not have (StarRocks' 5102).
    #[error("Config '{0}' does not exist or is not mutable")]
    UnknownConfig(String),
    /// ADMIN SET FRONTEND CONFIG with a value the setting cannot take (StarRocks' 5101).
    #[error("Set config failed: {0}")]
    SetConfigFailed(String),
    /// StarRocks' DDL execution errors (5064): the bare message.
    #[error("{0}")]
    Ddl(String),
    /// A scan reading more partitions than `scan_olap_partition_num_limit` allows.
    #[error(
        "Exceeded the limit of number of olap table partitions to be scanned. Number of partitions \
         allowed: {allowed}, number of partitions to be scanned: {scanned}. Please adjust the SQL \
         or change the limit by set variable scan_olap_partition_num_limit."
    )]
    PartitionScanLimit { allowed: u64, scanned: usize },
    #[error("Query execution was interrupted")]
    Interrupted,
    #[error("{0}")]
    Plan(String),
    #[error("{0}")]
    Execution(String),
}

impl From<datafusion::error::DataFusionError> for ExecError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        match e {
            D::External(inner) => match inner.downcast::<StorageError>() {
                Ok(storage) => ExecError::Storage(*storage),
                Err(other) => match other.downcast::<ExecError>() {
                    Ok(exec) => *exec,
                    Err(other) => ExecError::Execution(other.to_string()),
                },
            },
            D::Context(_, inner) | D::Diagnostic(_, inner) => ExecError::from(*inner),
            D::Collection(mut errors) if !errors.is_empty() => ExecError::from(errors.remove(0)),
            D::Shared(inner) => ExecError::Execution(inner.to_string()),
            D::ArrowError(a, _) => ExecError::InvalidValue(a.to_string()),
            D::SQL(e, _) => ExecError::Plan(e.to_string()),
            D::SchemaError(s, _) => match *s {
                datafusion::common::SchemaError::FieldNotFound { field, .. } => {
                    ExecError::UnknownColumn {
                        column: field.name().to_string(),
                        context: "field list".into(),
                    }
                }
                other => ExecError::Plan(other.to_string()),
            },
            D::Plan(m) => ExecError::Plan(m),
            D::NotImplemented(m) => ExecError::Unsupported(m),
            D::Execution(m) => ExecError::Execution(m),
            other => ExecError::Execution(other.to_string()),
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

impl From<datafusion::arrow::error::ArrowError> for ExecError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        ExecError::InvalidValue(e.to_string())
    }
}
