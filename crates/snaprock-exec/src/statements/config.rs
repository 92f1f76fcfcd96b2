//! ADMIN SET FRONTEND CONFIG and ADMIN SHOW FRONTEND CONFIG: the StarRocks FE settings snaprock
//! has, each one a global variable underneath (so `SET GLOBAL` and `SHOW VARIABLES` agree). As
//! in StarRocks, a setting changed this way lasts until the server restarts.

use snaprock_sql::ast::ShowFilter;

use crate::result::{Output, RowsBuilder};
use crate::server_info::t;
use crate::session::Session;
use crate::variables::VarValue;
use crate::{ExecError, Result};

/// One FE setting: its StarRocks name, the variable that holds it, its type and meaning.
struct FrontendConfig {
    key: &'static str,
    variable: &'static str,
    kind: &'static str,
    comment: &'static str,
}

const CONFIGS: [FrontendConfig; 2] = [
    FrontendConfig {
        key: "catalog_trash_expire_second",
        variable: "catalog_trash_expire_second",
        kind: "long",
        comment: "How long dropped databases, tables and partitions stay recoverable with RECOVER",
    },
    FrontendConfig {
        key: "qe_max_connection",
        variable: "max_connections",
        kind: "int",
        comment: "Connections the server accepts at once (max_connections)",
    },
];

fn config(key: &str) -> Option<&'static FrontendConfig> {
    CONFIGS.iter().find(|c| c.key.eq_ignore_ascii_case(key))
}

/// `ADMIN SET FRONTEND CONFIG ("key" = "value")`: StarRocks' 5102 for a setting it does not
/// have, 5101 for a value that is not one.
pub(crate) fn set(session: &Session, key: &str, value: &str) -> Result<Output> {
    let config = config(key).ok_or_else(|| ExecError::UnknownConfig(key.to_string()))?;
    let number = value.trim().parse::<i64>().map_err(|_| {
        ExecError::SetConfigFailed(format!(
            "Failed to set config '{key}'. err: invalid {} value '{value}'",
            config.kind
        ))
    })?;
    if number < 0 {
        return Err(ExecError::SetConfigFailed(format!(
            "Failed to set config '{key}'. err: the value must not be negative"
        )));
    }
    session
        .engine
        .globals
        .set(config.variable, VarValue::Int(number))?;
    Ok(Output::ok())
}

/// `ADMIN SHOW FRONTEND CONFIG [LIKE 'pattern']`: StarRocks' columns.
pub(crate) async fn show(session: &Session, filter: Option<ShowFilter>) -> Result<Output> {
    let mut rows =
        RowsBuilder::text(&["Key", "AliasNames", "Value", "Type", "IsMutable", "Comment"]);
    for config in &CONFIGS {
        let value = session.engine.globals.get(config.variable)?.display();
        rows.push(vec![
            t(config.key),
            t("[]"),
            t(&value),
            t(config.kind),
            t("true"),
            t(config.comment),
        ]);
    }
    super::show::filtered(rows, filter).await
}
