//! The AST of ALTER TABLE's schema-change and property clauses (the partition clauses are
//! statements of their own in `ast`).

use crate::ast::ColumnDef;

/// One change of `ALTER TABLE` (StarRocks' schema-change and table-property clauses).
#[derive(Debug, Clone, PartialEq)]
pub enum AlterTableChange {
    /// `ADD COLUMN c TYPE ... [FIRST | AFTER c]` or `ADD COLUMN (c TYPE ..., ...)`.
    AddColumns {
        columns: Vec<ColumnDef>,
        position: Option<ColumnPosition>,
    },
    DropColumn(String),
    /// `MODIFY COLUMN c TYPE ... [FIRST | AFTER c]`.
    ModifyColumn {
        column: Box<ColumnDef>,
        position: Option<ColumnPosition>,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    /// `RENAME new_name`.
    RenameTable(String),
    /// `COMMENT = 'text'`.
    Comment(String),
    /// `SET ("key" = "value", ...)`.
    SetProperties(Vec<(String, String)>),
}

/// Where an added or modified column goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnPosition {
    First,
    After(String),
}
