//! SET: system variables (session and global), user variables, SET NAMES, transaction
//! characteristics.

use snaprock_sql::ast::{SetItem, SetValue, VariableScope};
use snaprock_sql::sqlparser::ast::{Expr, Value};

use crate::Result;
use crate::session::Session;
use crate::variables::VarValue;

pub(crate) async fn set(session: &mut Session, item: SetItem) -> Result<()> {
    match item {
        SetItem::Names { charset, collation } => {
            let collation = collation.unwrap_or_else(|| format!("{charset}_general_ci"));
            for (name, value) in [
                ("character_set_client", charset.clone()),
                ("character_set_connection", charset.clone()),
                ("character_set_results", charset),
                ("collation_connection", collation),
            ] {
                let (key, v) = session
                    .engine
                    .globals
                    .check_session(name, VarValue::Str(value))?;
                session.session_vars.insert(key, v);
            }
            Ok(())
        }
        SetItem::Transaction { .. } => Ok(()),
        SetItem::Variable { scope, name, value } => {
            let value = match value {
                SetValue::Default => match scope {
                    VariableScope::User => VarValue::Null,
                    _ => session.engine.globals.default_value(&name)?,
                },
                SetValue::Expr(expr) => evaluate(session, *expr).await?,
            };
            match scope {
                VariableScope::User => {
                    session.user_vars.insert(name.to_lowercase(), value);
                }
                VariableScope::Global => session.engine.globals.set(&name, value)?,
                VariableScope::Session => {
                    let (key, v) = session.engine.globals.check_session(&name, value)?;
                    // The old and new names of transaction variables stay in step.
                    let twin = match key {
                        "tx_isolation" => Some("transaction_isolation"),
                        "transaction_isolation" => Some("tx_isolation"),
                        "tx_read_only" => Some("transaction_read_only"),
                        "transaction_read_only" => Some("tx_read_only"),
                        _ => None,
                    };
                    if let Some(twin) = twin {
                        session.session_vars.insert(twin, v.clone());
                    }
                    session.session_vars.insert(key, v);
                }
            }
            Ok(())
        }
    }
}

/// The value of a SET expression: bare words (`ON`, `utf8mb4`) are text; anything else is
/// evaluated like `SELECT expr`.
pub(super) async fn evaluate(session: &mut Session, expr: Expr) -> Result<VarValue> {
    match &expr {
        Expr::Identifier(i) if !i.value.starts_with('@') => {
            return Ok(VarValue::Str(i.value.clone()));
        }
        Expr::Value(v) => match &v.value {
            Value::Null => return Ok(VarValue::Null),
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                return Ok(VarValue::Str(s.clone()));
            }
            Value::Boolean(b) => return Ok(VarValue::Int(i64::from(*b))),
            Value::Number(n, _) => {
                if let Ok(i) = n.parse::<i64>() {
                    return Ok(VarValue::Int(i));
                }
                if let Ok(u) = n.parse::<u64>() {
                    return Ok(VarValue::UInt(u));
                }
            }
            _ => {}
        },
        _ => {}
    }
    super::query::evaluate_scalar(session, expr).await
}
