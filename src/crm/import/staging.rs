//! The records a batch makes, held in temporary tables (one per kind) and written with one
//! `INSERT … SELECT` per kind when the batch ends. A statement that fires the search index's triggers
//! opens a statement savepoint, and at every savepoint FTS5 writes out what it holds in
//! memory: one `INSERT` per record wrote the index once per record (a quarter of an
//! import's time went to that, another quarter to the statement journals). One statement
//! per batch writes it once per batch.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params, params_from_iter};
use serde_json::{Map, Value};

use crate::crm::fields::{Field, FieldType};
use crate::crm::{CrmError, Kind};

/// The kinds an import stages, companies first: contacts and deals may name them.
const KINDS: [Kind; 3] = [Kind::Company, Kind::Contact, Kind::Deal];

/// The staging table of `kind`: its fields' columns, untyped, as the tenant's table names
/// them.
fn table(kind: Kind) -> String {
    format!("import_{}", kind.table())
}

/// The connection's staging tables, and the statement that stages a record of each kind.
#[derive(Debug)]
pub struct Staging {
    inserts: [String; KINDS.len()],
}

/// Creates (or empties) the connection's staging tables.
pub fn open(conn: &Connection) -> Result<Staging, CrmError> {
    for kind in KINDS {
        let fields: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
        conn.execute_batch(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS {table} (
                 n INTEGER PRIMARY KEY, id TEXT NOT NULL, custom TEXT NOT NULL, tags TEXT, {fields}
             );
             DELETE FROM temp.{table};",
            table = table(kind),
            fields = fields.join(", "),
        ))?;
    }
    Ok(Staging {
        inserts: KINDS.map(|kind| {
            let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            let marks: Vec<String> = (1..=names.len() + 3).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO temp.{} (id, custom, tags, {}) VALUES ({})",
                table(kind),
                names.join(", "),
                marks.join(", ")
            )
        }),
    })
}

impl Staging {
    /// Holds a new record of `kind` until the batch ends.
    pub fn stage(
        &self,
        conn: &Connection,
        kind: Kind,
        id: &str,
        values: &[(&'static Field, Sql)],
        custom: &Map<String, Value>,
        tags: Option<&[String]>,
    ) -> Result<(), CrmError> {
        let fields = kind.fields();
        let mut row: Vec<Sql> = Vec::with_capacity(fields.len() + 3);
        row.push(Sql::Text(id.to_owned()));
        row.push(Sql::Text(
            serde_json::to_string(custom).unwrap_or_else(|_| "{}".into()),
        ));
        row.push(match tags {
            Some(names) => Sql::Text(serde_json::to_string(names).unwrap_or_else(|_| "[]".into())),
            None => Sql::Null,
        });
        for field in fields {
            row.push(
                values
                    .iter()
                    .find(|(f, _)| f.name == field.name)
                    .map_or(Sql::Null, |(_, v)| v.clone()),
            );
        }
        let at = KINDS.iter().position(|k| *k == kind).unwrap_or_default();
        conn.prepare_cached(&self.inserts[at])?
            .execute(params_from_iter(row))?;
        Ok(())
    }
}

/// What the batch's records were made by: for their system columns and timeline entries.
#[derive(Debug)]
pub struct Maker<'a> {
    pub import_seq: i64,
    pub now: i64,
    pub actor: &'a str,
    /// The detail of each record's `imported` timeline entry (JSON).
    pub detail: &'a str,
}

/// Writes the staged records (companies first: contacts and deals may name them), their
/// timeline entries and tags; empties the staging tables.
pub fn flush(conn: &Connection, maker: &Maker<'_>) -> Result<(), CrmError> {
    for kind in KINDS {
        let staged = table(kind);
        conn.prepare_cached(&insert_sql(kind))?.execute(params![
            maker.now,
            maker.actor,
            maker.import_seq
        ])?;
        conn.prepare_cached(&format!(
            "INSERT INTO timeline (record_kind, record_id, at, actor, event, detail)
             SELECT ?1, id, ?2, ?3, 'imported', ?4 FROM temp.{staged} ORDER BY n"
        ))?
        .execute(params![kind.as_str(), maker.now, maker.actor, maker.detail])?;
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO record_tags (record_kind, record_id, tag_id)
             SELECT ?1, r.id, t.id
             FROM temp.{staged} r, json_each(r.tags) j JOIN tags t ON t.name = j.value
             WHERE r.tags IS NOT NULL"
        ))?
        .execute([kind.as_str()])?;
        conn.execute(&format!("DELETE FROM temp.{staged}"), [])?;
    }
    Ok(())
}

/// `INSERT INTO <table> (…) SELECT … FROM temp.import_<table>`: every field of the kind, the
/// columns' defaults where a row left one out.
fn insert_sql(kind: Kind) -> String {
    let mut columns = vec![
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "import_seq",
        "custom",
    ];
    let mut values = vec![
        "id".to_owned(),
        "?1".into(),
        "?2".into(),
        "?1".into(),
        "?2".into(),
        "?3".into(),
        "custom".into(),
    ];
    for field in kind.fields() {
        columns.push(field.name);
        let value = field.name;
        values.push(match (field.ty, field.name) {
            (FieldType::Name, _) => format!("coalesce({value}, '')"),
            (FieldType::Emails | FieldType::Phones, _) => format!("coalesce({value}, '[]')"),
            (_, "lifecycle_stage") => format!("coalesce({value}, 'lead')"),
            _ => value.to_owned(),
        });
    }
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM temp.{} ORDER BY n",
        kind.table(),
        columns.join(", "),
        values.join(", "),
        table(kind)
    )
}
