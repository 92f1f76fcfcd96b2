//! What `SET ...` sets: session and global variables, user variables, names, transactions.

use sqlparser::ast::Expr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableScope {
    Session,
    Global,
    /// `@name`: a user variable.
    User,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Default,
    Expr(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `SET NAMES x [COLLATE y]`, `SET CHARACTER SET x`.
    Names {
        charset: String,
        collation: Option<String>,
    },
    Variable {
        scope: VariableScope,
        name: String,
        value: SetValue,
    },
    /// `SET [SESSION|GLOBAL] TRANSACTION ...`: the text after TRANSACTION.
    Transaction {
        global: bool,
        characteristics: String,
    },
}
