//! A pipeline's board: each stage with its deals' count, value and weighted value per
//! currency (amounts in different currencies are never added together), and the first page
//! of its deals. Won and lost stages show the deals closed in a recent window, so that years
//! of history do not bury the work in progress.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use serde::Serialize;
use serde_json::{Value, json};

use super::list::{self, Filter, Op, Query};
use super::pipelines::{self, Stage};
use super::visibility::Scope;
use super::{CrmError, Kind, values};

/// A total of one currency. Sums are exact: amounts are added in two parts (above and below
/// 2^20) that cannot overflow, and joined in 128 bits.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Total {
    pub currency: String,
    pub count: i64,
    pub amount: i128,
    /// Each amount times its probability (the deal's, else its stage's), summed.
    pub weighted: i128,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Column {
    pub stage: Stage,
    pub count: i64,
    pub totals: Vec<Total>,
    pub deals: Vec<Value>,
    /// Resumes the stage's deals on `GET /deals` with the same filters.
    pub next_cursor: Option<String>,
    pub filters: Vec<Filter>,
}

const SPLIT: i128 = 1 << 20;

/// Totals per currency of the deals matching `conditions`.
pub fn totals(
    conn: &Connection,
    conditions: &str,
    params: Vec<Sql>,
) -> Result<Vec<Total>, CrmError> {
    let sql = format!(
        "SELECT deals.currency, count(*),
                coalesce(sum(deals.amount >> 20), 0), coalesce(sum(deals.amount & 1048575), 0),
                coalesce(sum((deals.amount >> 20) * coalesce(deals.probability, stages.probability)), 0),
                coalesce(sum((deals.amount & 1048575) * coalesce(deals.probability, stages.probability)), 0)
         FROM deals JOIN stages ON stages.id = deals.stage_id
         WHERE {conditions}
         GROUP BY deals.currency ORDER BY deals.currency"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let part = |i: usize| -> rusqlite::Result<i128> { Ok(i128::from(r.get::<_, i64>(i)?)) };
        Ok(Total {
            currency: r.get(0)?,
            count: r.get(1)?,
            amount: part(2)? * SPLIT + part(3)?,
            // Whole minor units, rounded half away from zero.
            weighted: {
                let hundredths = part(4)? * SPLIT + part(5)?;
                (hundredths + hundredths.signum() * 50) / 100
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The board of `pipeline`, with `per_stage` deals of each stage; closed stages show deals
/// closed since `closed_since` (Unix seconds); with `owner`, only that user's deals.
pub fn board(
    conn: &Connection,
    pipeline: &str,
    scope: &Scope,
    per_stage: u32,
    closed_since: i64,
    owner: Option<&str>,
) -> Result<Vec<Column>, CrmError> {
    let pipeline = pipelines::get(conn, pipeline)?;
    let mut columns = Vec::new();
    for stage in pipeline.stages {
        let mut filters = vec![Filter {
            field: "stage_id".into(),
            op: Op::Eq,
            value: json!(stage.id),
        }];
        let mut params = vec![Sql::Text(stage.id.clone())];
        let mut conditions = vec![
            "deals.stage_id = ?1".to_owned(),
            "deals.deleted_at IS NULL".to_owned(),
        ];
        conditions.push(scope.condition(Kind::Deal, &mut params));
        if let Some(owner) = owner {
            filters.push(Filter {
                field: "owner_id".into(),
                op: Op::Eq,
                value: json!(owner),
            });
            params.push(Sql::Text(owner.to_owned()));
            conditions.push(format!("deals.owner_id = ?{}", params.len()));
        }
        if stage.kind != "open" {
            filters.push(Filter {
                field: "closed_at".into(),
                op: Op::Range,
                value: json!({ "from": values::rfc3339(closed_since) }),
            });
            params.push(Sql::Integer(closed_since));
            conditions.push(format!("deals.closed_at >= ?{}", params.len()));
        }
        let totals = totals(conn, &conditions.join(" AND "), params)?;
        let query = Query {
            filters: filters.clone(),
            sort: None,
            limit: Some(per_stage),
            cursor: None,
        };
        let page = list::page(conn, Kind::Deal, &query, scope, None)?;
        columns.push(Column {
            count: totals.iter().map(|t| t.count).sum(),
            totals,
            deals: page
                .records
                .into_iter()
                .map(|r| Value::Object(r.body))
                .collect(),
            next_cursor: page.next_cursor,
            filters,
            stage,
        });
    }
    Ok(columns)
}

/// Totals per currency across columns, for a summary line: still one per currency.
pub fn by_currency(columns: &[Column]) -> Vec<Total> {
    let mut sums: BTreeMap<String, Total> = BTreeMap::new();
    for total in columns.iter().flat_map(|c| &c.totals) {
        let sum = sums.entry(total.currency.clone()).or_insert_with(|| Total {
            currency: total.currency.clone(),
            count: 0,
            amount: 0,
            weighted: 0,
        });
        sum.count += total.count;
        sum.amount += total.amount;
        sum.weighted += total.weighted;
    }
    sums.into_values().collect()
}
