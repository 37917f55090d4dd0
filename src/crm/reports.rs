//! The dashboard and reports: pipeline value per stage, deals won and lost this month
//! against last, activities due and overdue per person, recent changes, deals won per month
//! and the stage-to-stage funnel. Every figure respects the caller's visibility, and money is
//! totalled per currency (with a converted sum only where the tenant set rates).

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use serde::Serialize;
use serde_json::{Value, json};
use time::{Date, Month, OffsetDateTime, Time};

use super::board::{self, Total};
use super::visibility::Visibility;
use super::{CrmError, Kind, money, pipelines, settings, values};
use crate::zone::DaySpan;

/// The start of the UTC month `offset` months from the one holding `now` (Unix seconds).
pub fn month_start(now: i64, offset: i32) -> i64 {
    let today = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let months = today.year() * 12 + i32::from(u8::from(today.month())) - 1 + offset;
    let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let month = Month::try_from(u8::try_from(month).unwrap_or(1)).unwrap_or(Month::January);
    Date::from_calendar_date(year, month, 1).map_or(0, |d| {
        d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp()
    })
}

/// Totals per currency of visible deals matching `condition` (over `deals`, with `params`).
fn deal_totals(
    conn: &Connection,
    visibility: &Visibility,
    condition: &str,
    mut params: Vec<Sql>,
) -> Result<Vec<Total>, CrmError> {
    let visible = visibility
        .scope(Kind::Deal)
        .condition(Kind::Deal, &mut params);
    board::totals(
        conn,
        &format!("deals.deleted_at IS NULL AND {visible} AND {condition}"),
        params,
    )
}

#[derive(Debug, Serialize)]
struct StageValue {
    stage: pipelines::Stage,
    count: i64,
    totals: Vec<Total>,
}

/// Open deals of every pipeline, per stage.
fn pipeline_value(conn: &Connection, visibility: &Visibility) -> Result<Value, CrmError> {
    let mut all = Vec::new();
    for pipeline in pipelines::list(conn)? {
        let mut stages = Vec::new();
        for stage in pipeline.stages.into_iter().filter(|s| s.kind == "open") {
            let totals = deal_totals(
                conn,
                visibility,
                "deals.stage_id = ?1",
                vec![Sql::Text(stage.id.clone())],
            )?;
            stages.push(StageValue {
                count: totals.iter().map(|t| t.count).sum(),
                totals,
                stage,
            });
        }
        all.push(json!({ "id": pipeline.id, "name": pipeline.name, "stages": stages }));
    }
    Ok(Value::Array(all))
}

/// Deals won and lost in the month `offset` from now.
fn closed_in(
    conn: &Connection,
    visibility: &Visibility,
    now: i64,
    offset: i32,
) -> Result<Value, CrmError> {
    let (from, to) = (month_start(now, offset), month_start(now, offset + 1));
    let mut month = serde_json::Map::new();
    month.insert("from".into(), json!(values::rfc3339(from)));
    for status in ["won", "lost"] {
        let totals = deal_totals(
            conn,
            visibility,
            "deals.status = ?1 AND deals.closed_at >= ?2 AND deals.closed_at < ?3",
            vec![
                Sql::Text(status.into()),
                Sql::Integer(from),
                Sql::Integer(to),
            ],
        )?;
        month.insert(
            status.into(),
            json!({ "count": totals.iter().map(|t| t.count).sum::<i64>(), "totals": totals }),
        );
    }
    Ok(Value::Object(month))
}

/// Open activities due `today` and overdue, per assignee. A due date typed alone (kept as
/// midnight UTC) is compared as a date, any other moment with the day's span in the reader's
/// zone: the grouping of the page of my tasks.
fn activities_due(
    conn: &Connection,
    visibility: &Visibility,
    today: &DaySpan,
) -> Result<Value, CrmError> {
    let mut params = vec![
        Sql::Integer(today.date),
        Sql::Integer(today.start),
        Sql::Integer(today.end),
        Sql::Integer(today.end.max(today.date + 86_400)),
    ];
    let visible = visibility
        .scope(Kind::Activity)
        .condition(Kind::Activity, &mut params);
    let sql = format!(
        "SELECT activities.assignee_id,
                sum(CASE WHEN activities.due_at % 86400 = 0 THEN activities.due_at = ?1
                         ELSE activities.due_at >= ?2 END),
                sum(CASE WHEN activities.due_at % 86400 = 0 THEN activities.due_at < ?1
                         ELSE activities.due_at < ?2 END)
         FROM activities
         WHERE activities.deleted_at IS NULL AND activities.done_at IS NULL
           AND activities.due_at < ?4
           AND CASE WHEN activities.due_at % 86400 = 0 THEN activities.due_at <= ?1
                    ELSE activities.due_at < ?3 END
           AND {visible}
         GROUP BY activities.assignee_id ORDER BY activities.assignee_id"
    );
    let rows: Vec<Value> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), |r| {
            Ok(json!({ "assignee_id": r.get::<_, Option<String>>(0)?, "due_today": r.get::<_, i64>(1)?, "overdue": r.get::<_, i64>(2)? }))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(rows))
}

/// The latest changes to records the caller sees.
fn recent_changes(
    conn: &Connection,
    visibility: &Visibility,
    limit: u32,
) -> Result<Value, CrmError> {
    let mut params = Vec::new();
    let mut parts = Vec::new();
    for kind in Kind::ALL {
        let table = kind.table();
        let visible = visibility.scope(kind).condition(kind, &mut params);
        parts.push(format!(
            "SELECT t.seq, t.record_kind, t.record_id, t.at, t.actor, t.event, {title} AS title
             FROM timeline t JOIN {table} ON {table}.id = t.record_id
             WHERE t.record_kind = '{kind}' AND {table}.deleted_at IS NULL AND {visible}",
            title = kind.title_sql(),
        ));
    }
    let sql = format!(
        "SELECT * FROM ({}) ORDER BY seq DESC LIMIT {limit}",
        parts.join(" UNION ALL ")
    );
    let rows: Vec<Value> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), |r| {
            Ok(json!({
                "record_kind": r.get::<_, String>(1)?, "record_id": r.get::<_, String>(2)?,
                "at": values::rfc3339(r.get(3)?), "actor": r.get::<_, String>(4)?,
                "event": r.get::<_, String>(5)?, "title": r.get::<_, String>(6)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(rows))
}

/// The dashboard, but for the seats, which live in the control database; `today` is the
/// reader's (see [`activities_due`]).
pub fn dashboard(
    conn: &Connection,
    visibility: &Visibility,
    now: i64,
    today: &DaySpan,
) -> Result<Value, CrmError> {
    let default = settings::get(conn)?.default_currency;
    let pipelines = pipeline_value(conn, visibility)?;
    let open = deal_totals(conn, visibility, "deals.status = 'open'", Vec::new())?;
    Ok(json!({
        "default_currency": default,
        "pipelines": pipelines,
        "open_deals": { "totals": open, "converted": money::converted(conn, &open, &default)? },
        "this_month": closed_in(conn, visibility, now, 0)?,
        "last_month": closed_in(conn, visibility, now, -1)?,
        "activities_due": activities_due(conn, visibility, today)?,
        "recent_changes": recent_changes(conn, visibility, 20)?,
    }))
}

/// Deals won in each of the last `months` months (this one included), per currency.
pub fn won_by_month(
    conn: &Connection,
    visibility: &Visibility,
    now: i64,
    months: i32,
) -> Result<Value, CrmError> {
    let mut rows = Vec::new();
    for offset in (1 - months)..=0 {
        let (from, to) = (month_start(now, offset), month_start(now, offset + 1));
        let totals = deal_totals(
            conn,
            visibility,
            "deals.status = 'won' AND deals.closed_at >= ?1 AND deals.closed_at < ?2",
            vec![Sql::Integer(from), Sql::Integer(to)],
        )?;
        rows.push(json!({ "month": values::rfc3339(from)[..7], "totals": totals }));
    }
    Ok(Value::Array(rows))
}

/// The funnel of a pipeline: of the deals made since `since`, how many reached each stage
/// (where they are, were moved from or to; lost stages are no step), and what share
/// of those went on to the next.
pub fn funnel(
    conn: &Connection,
    visibility: &Visibility,
    pipeline: &str,
    since: i64,
) -> Result<Value, CrmError> {
    let pipeline = pipelines::get(conn, pipeline)?;
    let mut params = vec![Sql::Text(pipeline.id.clone()), Sql::Integer(since)];
    let visible = visibility
        .scope(Kind::Deal)
        .condition(Kind::Deal, &mut params);
    let sql = format!(
        "WITH chosen AS (
             SELECT deals.id, deals.stage_id FROM deals
             WHERE deals.pipeline_id = ?1 AND deals.deleted_at IS NULL AND deals.created_at >= ?2 AND {visible}
         ), reached AS (
             SELECT chosen.id AS deal, s.position FROM chosen JOIN stages s ON s.id = chosen.stage_id
             WHERE s.kind <> 'lost'
             UNION ALL
             SELECT chosen.id, s.position FROM chosen
             JOIN timeline t ON t.record_kind = 'deal' AND t.record_id = chosen.id AND t.event = 'stage_moved'
             JOIN stages s ON s.id IN (t.detail ->> '$.to.stage_id', t.detail ->> '$.from.stage_id')
             WHERE s.pipeline_id = ?1 AND s.kind <> 'lost'
         ), furthest AS (SELECT deal, max(position) AS position FROM reached GROUP BY deal)
         SELECT stages.id, (SELECT count(*) FROM furthest WHERE furthest.position >= stages.position)
         FROM stages WHERE stages.pipeline_id = ?1 AND stages.kind <> 'lost'
         ORDER BY stages.position, stages.seq"
    );
    let counts: Vec<(String, i64)> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut steps = Vec::new();
    for (i, (id, reached)) in counts.iter().enumerate() {
        let name = pipeline
            .stages
            .iter()
            .find(|s| &s.id == id)
            .map(|s| s.name.clone());
        let next = counts.get(i + 1).map(|(_, n)| *n);
        #[allow(clippy::cast_precision_loss)]
        let rate = next
            .filter(|_| *reached > 0)
            .map(|n| n as f64 / *reached as f64);
        steps.push(json!({ "stage_id": id, "stage": name, "reached": reached, "to_next": rate }));
    }
    Ok(json!({ "pipeline_id": pipeline.id, "since": values::rfc3339(since), "steps": steps }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_midnight_utc_on_the_first_across_years() {
        let nov_23 = 1_795_392_000; // 2026-11-23T00:00:00Z
        assert_eq!(
            values::rfc3339(month_start(nov_23, 0)),
            "2026-11-01T00:00:00Z"
        );
        assert_eq!(
            values::rfc3339(month_start(nov_23, -11)),
            "2025-12-01T00:00:00Z"
        );
        assert_eq!(
            values::rfc3339(month_start(nov_23, 2)),
            "2027-01-01T00:00:00Z"
        );
    }
}
