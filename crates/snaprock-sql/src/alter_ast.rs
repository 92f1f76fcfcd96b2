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
    /// `ADD INDEX ...`, also `CREATE INDEX name ON t (...)`.
    AddIndex(IndexDef),
    /// `DROP INDEX name`, also `DROP INDEX [IF EXISTS] name ON t`.
    DropIndex {
        name: String,
        if_exists: bool,
    },
}

/// `INDEX name (columns) [USING BITMAP | NGRAMBF | ...] [("key" = "value", ...)]
/// [COMMENT '...']`, in CREATE TABLE, ALTER TABLE ADD INDEX and CREATE INDEX.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    pub columns: Vec<String>,
    /// The word after USING, upper case (`None`: not said, a bitmap index).
    pub kind: Option<String>,
    pub properties: Vec<(String, String)>,
    pub comment: Option<String>,
}

/// Where an added or modified column goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnPosition {
    First,
    After(String),
}
