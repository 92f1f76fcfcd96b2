//! The WHERE of `SHOW SNAPSHOT ON repo`: the shapes StarRocks accepts (`SNAPSHOT = 'name'
//! [AND TIMESTAMP = '...']`, `SNAPSHOT IN (...)`), and its hint for any other.

use sqlparser::ast::{BinaryOperator, Expr, Value};

/// The WHERE of `SHOW SNAPSHOT ON repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotFilter {
    All,
    Name(String),
    NameAndTimestamp {
        name: String,
        timestamp: String,
    },
    In(Vec<String>),
    /// A shape StarRocks refuses; the text says what was wrong.
    Invalid(String),
}

const SNAPSHOT_WHERE_HINT: &str = "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = '2018-04-18-19-19-10']";

/// Sorts a SHOW SNAPSHOT WHERE into the shapes StarRocks accepts.
pub(crate) fn snapshot_filter(expr: &Expr) -> SnapshotFilter {
    let invalid = || SnapshotFilter::Invalid(SNAPSHOT_WHERE_HINT.to_string());
    match expr {
        Expr::Nested(inner) => snapshot_filter(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => match equality(left, right) {
            Some((column, value)) if column == "snapshot" => SnapshotFilter::Name(value),
            _ => invalid(),
        },
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let (Some(a), Some(b)) = (equality_of(left), equality_of(right)) else {
                return invalid();
            };
            let (name, timestamp) = match (a.0.as_str(), b.0.as_str()) {
                ("snapshot", "timestamp") => (a.1, b.1),
                ("timestamp", "snapshot") => (b.1, a.1),
                _ => return invalid(),
            };
            SnapshotFilter::NameAndTimestamp { name, timestamp }
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            if !matches!(column_name(expr).as_deref(), Some("snapshot")) {
                return SnapshotFilter::Invalid("Left expr of should be snapshot".into());
            }
            let mut names = Vec::new();
            for item in list {
                match string_value(item) {
                    Some(s) => names.push(s),
                    None => {
                        return SnapshotFilter::Invalid(
                            "Child of in predicate should be string value".into(),
                        );
                    }
                }
            }
            SnapshotFilter::In(names)
        }
        _ => invalid(),
    }
}

fn equality_of(expr: &Expr) -> Option<(String, String)> {
    match expr {
        Expr::Nested(inner) => equality_of(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => equality(left, right),
        _ => None,
    }
}

/// `column = 'value'` with a non-empty value.
fn equality(left: &Expr, right: &Expr) -> Option<(String, String)> {
    let column = column_name(left)?;
    let value = string_value(right)?;
    (!value.is_empty()).then_some((column, value))
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(id) => Some(id.value.to_lowercase()),
        _ => None,
    }
}

fn string_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}
