//! The one place where errors become MySQL error codes and messages.

use opensrv_mysql::ErrorKind;
use snaprock_access::AccessError;
use snaprock_backup::BackupErrorKind;
use snaprock_exec::ExecError;
use snaprock_storage::StorageError;

/// The MySQL error code and message for a failed statement. The log gets the code only: a
/// message can quote the statement (`near '...'`), and statements can hold passwords and keys.
pub fn mysql_error(error: &ExecError) -> (ErrorKind, String) {
    let (kind, message) = error_kind_and_message(error);
    tracing::debug!(code = kind as u16, "statement failed");
    (kind, message)
}

/// Errors of the protocol itself, before a statement reaches a session.
#[derive(Debug)]
pub enum ProtocolError {
    /// A failed login (`using_password`: whether the client sent a proof).
    AccessDenied {
        user: String,
        host: String,
        using_password: bool,
    },
    /// A prepared statement's text could not be tokenized.
    PrepareSyntax(String),
    /// COM_STMT_EXECUTE of a statement id this connection never prepared.
    UnknownStatement(u32),
    /// COM_STMT_EXECUTE whose parameters do not decode or do not match the placeholders.
    WrongParameters(String),
    /// Several statements in one COM_QUERY without CLIENT_MULTI_STATEMENTS.
    MultiStatementsOff,
    /// COM_STMT_PREPARE over the server's `max_prepared_stmt_count`.
    TooManyPreparedStatements(u64),
    /// A connection over `max_connections`.
    TooManyConnections,
    /// A packet over the size allowed (before login: the handshake's limit).
    PacketTooLarge,
    /// A plaintext login under `--require-secure-transport`.
    InsecureTransport,
}

/// The MySQL error code and message of a protocol error.
pub fn protocol_error(error: &ProtocolError) -> (ErrorKind, String) {
    use ErrorKind::*;
    match error {
        ProtocolError::AccessDenied {
            user,
            host,
            using_password,
        } => (
            ER_ACCESS_DENIED_ERROR,
            format!(
                "Access denied for user '{user}'@'{host}' (using password: {})",
                if *using_password { "YES" } else { "NO" }
            ),
        ),
        ProtocolError::PrepareSyntax(detail) => (ER_PARSE_ERROR, detail.clone()),
        ProtocolError::UnknownStatement(id) => (
            ER_UNKNOWN_STMT_HANDLER,
            format!("Unknown prepared statement handler ({id}) given to mysqld_stmt_execute"),
        ),
        ProtocolError::WrongParameters(detail) => (
            ER_WRONG_ARGUMENTS,
            format!("Incorrect arguments to mysqld_stmt_execute: {detail}"),
        ),
        ProtocolError::TooManyPreparedStatements(max) => (
            ER_MAX_PREPARED_STMT_COUNT_REACHED,
            format!(
                "Can't create more than max_prepared_stmt_count statements (current value: {max})"
            ),
        ),
        ProtocolError::TooManyConnections => (ER_CON_COUNT_ERROR, "Too many connections".into()),
        ProtocolError::PacketTooLarge => (
            ER_NET_PACKET_TOO_LARGE,
            "Got a packet bigger than 'max_allowed_packet' bytes".into(),
        ),
        ProtocolError::InsecureTransport => (
            ER_SECURE_TRANSPORT_REQUIRED,
            "Connections using insecure transport are prohibited while \
             --require_secure_transport=ON."
                .into(),
        ),
        ProtocolError::MultiStatementsOff => (
            ER_PARSE_ERROR,
            "You have an error in your SQL syntax: several statements in one query need the \
             client's CLIENT_MULTI_STATEMENTS option"
                .to_string(),
        ),
    }
}

fn error_kind_and_message(error: &ExecError) -> (ErrorKind, String) {
    use ErrorKind::*;
    let kind = match error {
        ExecError::EmptyQuery => ER_EMPTY_QUERY,
        ExecError::Parse(_) => ER_PARSE_ERROR,
        ExecError::DataTooLong { .. } => ER_DATA_TOO_LONG,
        ExecError::Storage(s) => return storage_error(s),
        ExecError::Backup(b) => backup_error_kind(b.kind),
        ExecError::Access(a) => access_error_kind(a),
        ExecError::DatabaseAccessDenied { .. } => ER_DBACCESS_DENIED_ERROR,
        ExecError::NoDatabaseSelected => ER_NO_DB_ERROR,
        ExecError::UnknownDatabase(_) => ER_BAD_DB_ERROR,
        ExecError::UnknownTable(_) => ER_NO_SUCH_TABLE,
        ExecError::UnknownPartitions(_) => ER_DROP_PARTITION_NON_EXISTENT,
        ExecError::TableExists(_) => ER_TABLE_EXISTS_ERROR,
        ExecError::UnknownColumn { .. } => ER_BAD_FIELD_ERROR,
        ExecError::DuplicateColumn(_) => ER_DUP_FIELDNAME,
        ExecError::DuplicateKeyName(_) => ER_DUP_KEYNAME,
        ExecError::KeyColumnMissing(_) => ER_KEY_COLUMN_DOES_NOT_EXITS,
        ExecError::CantDropKey(_) => ER_CANT_DROP_FIELD_OR_KEY,
        ExecError::UnknownVariable(_) => ER_UNKNOWN_SYSTEM_VARIABLE,
        ExecError::WrongValueForVariable { .. } => ER_WRONG_VALUE_FOR_VAR,
        ExecError::ReadOnlyVariable(_) => ER_INCORRECT_GLOBAL_LOCAL_VAR,
        ExecError::GlobalOnlyVariable(_) => ER_GLOBAL_VARIABLE,
        ExecError::WrongArguments(_) => ER_WRONG_ARGUMENTS,
        ExecError::SessionReadOnlyVariable(_) => ER_VARIABLE_IS_READONLY,
        ExecError::UnknownThread(_) => ER_NO_SUCH_THREAD,
        // StarRocks answers semantic errors of DDL with 1064, as it does syntax errors.
        ExecError::InvalidDefinition(_) => ER_PARSE_ERROR,
        ExecError::InvalidValue(_) => ER_TRUNCATED_WRONG_VALUE_FOR_FIELD,
        ExecError::Unsupported(_) => ER_NOT_SUPPORTED_YET,
        ExecError::Analysis(_) | ExecError::Ddl(_) => ER_SR_COMMON_ERROR,
        ExecError::UnknownConfig(_) => ER_SR_CONFIG_NOT_EXIST,
        ExecError::SetConfigFailed(_) => ER_SR_SET_CONFIG_FAILED,
        ExecError::Interrupted => ER_QUERY_INTERRUPTED,
        ExecError::Plan(_) | ExecError::PartitionScanLimit { .. } => ER_PARSE_ERROR,
        ExecError::Execution(_) => ER_UNKNOWN_ERROR,
    };
    (kind, error.to_string())
}

fn access_error_kind(error: &AccessError) -> ErrorKind {
    use ErrorKind::*;
    match error {
        AccessError::Denied(_) => ER_SR_ACCESS_DENIED,
        AccessError::OperationFailed { .. } => ER_CANNOT_USER,
        AccessError::Semantic(_) => ER_SR_COMMON_ERROR,
        AccessError::PasswordHash => ER_PASSWD_LENGTH,
        AccessError::Storage(_) => ER_UNKNOWN_ERROR,
    }
}

fn backup_error_kind(kind: BackupErrorKind) -> ErrorKind {
    use ErrorKind::*;
    match kind {
        BackupErrorKind::Syntax | BackupErrorKind::Semantic => ER_PARSE_ERROR,
        BackupErrorKind::Common => ER_SR_COMMON_ERROR,
        BackupErrorKind::WrongLabel => ER_SR_WRONG_LABEL_NAME,
        // StarRocks' ERR_WRONG_TABLE_NAME is 1104 (42000).
        BackupErrorKind::WrongTableName => ER_TOO_BIG_SELECT,
        BackupErrorKind::UnknownDatabase => ER_BAD_DB_ERROR,
        BackupErrorKind::NoDatabaseSelected => ER_NO_DB_ERROR,
        BackupErrorKind::Internal => ER_UNKNOWN_ERROR,
    }
}

fn storage_error(error: &StorageError) -> (ErrorKind, String) {
    use ErrorKind::*;
    let kind = match error {
        StorageError::UnknownDatabase(_) => ER_BAD_DB_ERROR,
        StorageError::DatabaseExists(_) => ER_DB_CREATE_EXISTS,
        StorageError::UnknownTable { .. } => ER_NO_SUCH_TABLE,
        StorageError::TableExists(_) => ER_TABLE_EXISTS_ERROR,
        StorageError::UnknownPartition { .. } => ER_UNKNOWN_PARTITION,
        StorageError::PartitionExists(_) => ER_SAME_NAME_PARTITION,
        StorageError::NotInRecycleBin(_) => ER_BAD_TABLE_ERROR,
        StorageError::Recycle(_)
        | StorageError::StorageVolume(_)
        | StorageError::LabelAlreadyUsed(_) => ER_SR_COMMON_ERROR,
        StorageError::PartitionOverlap(_) => ER_RANGE_NOT_INCREASING_ERROR,
        StorageError::NoPartitionForValue(_) => ER_NO_PARTITION_FOR_GIVEN_VALUE,
        StorageError::NullInNotNullColumn(_) => ER_BAD_NULL_ERROR,
        StorageError::InvalidPartitionValue { .. } => ER_WRONG_TYPE_COLUMN_VALUE_ERROR,
        StorageError::InvalidDefinition(_) => ER_PARSE_ERROR,
        StorageError::DatabaseNotEmpty(_) => ER_DB_DROP_EXISTS,
        StorageError::Conflict => ER_LOCK_DEADLOCK,
        StorageError::ReadOnlySnapshotDatabase { .. }
        | StorageError::ReadOnlyFollowedDatabase { .. } => ER_OPTION_PREVENTS_STATEMENT,
        StorageError::Io { .. }
        | StorageError::RemoteFileUnavailable { .. }
        | StorageError::VolumeUnavailable { .. }
        | StorageError::CorruptCatalog { .. }
        | StorageError::DataDirInUse { .. }
        | StorageError::Arrow(_)
        | StorageError::Parquet(_)
        | StorageError::DataFusion(_) => ER_UNKNOWN_ERROR,
    };
    (kind, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            mysql_error(&ExecError::UnknownTable("d.t".into())).0 as u16,
            1146
        );
        assert_eq!(
            mysql_error(&ExecError::UnknownDatabase("d".into())).0 as u16,
            1049
        );
        assert_eq!(
            mysql_error(&ExecError::Storage(StorageError::NoPartitionForValue(
                "5".into()
            )))
            .0 as u16,
            1526
        );
    }
}
