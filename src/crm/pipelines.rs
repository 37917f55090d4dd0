//! Pipelines and their ordered stages, and deals moving through them. A stage's kind (open,
//! won, lost) is its deals' status. No deal is ever left without a stage: the database
//! refuses a stage that holds deals to go, and removing one here moves its deals first.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::records::{self, Env, Record};
use super::{CrmError, Kind, timeline, values};

pub const STAGE_KINDS: &[&str] = &["open", "won", "lost"];
/// Most stages of one pipeline, and most pipelines of a tenant.
pub const MAX_STAGES: usize = 50;
pub const MAX_PIPELINES: usize = 50;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Stage {
    pub id: String,
    pub pipeline_id: String,
    pub name: String,
    pub position: i64,
    pub probability: i64,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub position: i64,
    pub version: i64,
    pub stages: Vec<Stage>,
}

/// The tenant's currency for amounts given without one.
pub fn default_currency(conn: &Connection) -> Result<String, CrmError> {
    let value: String = conn
        .prepare_cached("SELECT value FROM crm_settings WHERE key = 'default_currency'")?
        .query_row([], |r| r.get(0))?;
    Ok(serde_json::from_str(&value).unwrap_or_else(|_| "USD".to_owned()))
}

const STAGE_COLUMNS: &str = "id, pipeline_id, name, position, probability, kind";

fn read_stage(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stage> {
    Ok(Stage {
        id: r.get(0)?,
        pipeline_id: r.get(1)?,
        name: r.get(2)?,
        position: r.get(3)?,
        probability: r.get(4)?,
        kind: r.get(5)?,
    })
}

/// A stage by id.
pub fn stage(conn: &Connection, id: &str) -> Result<Stage, CrmError> {
    conn.prepare_cached(&format!("SELECT {STAGE_COLUMNS} FROM stages WHERE id = ?1"))?
        .query_row([id], read_stage)
        .optional()?
        .ok_or(CrmError::Missing("stage"))
}

/// The stages of a pipeline, in order.
pub fn stages(conn: &Connection, pipeline: &str) -> Result<Vec<Stage>, CrmError> {
    let stages = conn
        .prepare_cached(&format!(
            "SELECT {STAGE_COLUMNS} FROM stages WHERE pipeline_id = ?1 ORDER BY position, seq"
        ))?
        .query_map([pipeline], read_stage)?
        .collect::<Result<_, _>>()?;
    Ok(stages)
}

/// The stage a new deal starts in: the one given (which must belong to the pipeline given),
/// else the pipeline's first stage, else the first pipeline's.
pub fn stage_for(
    conn: &Connection,
    pipeline: Option<&str>,
    stage_id: Option<&str>,
) -> Result<Stage, CrmError> {
    if let Some(id) = stage_id {
        let found =
            stage(conn, id).map_err(|_| CrmError::invalid("stage_id", "there is no such stage"))?;
        if pipeline.is_some_and(|p| p != found.pipeline_id) {
            return Err(CrmError::invalid(
                "stage_id",
                "is a stage of another pipeline",
            ));
        }
        return Ok(found);
    }
    let pipeline = match pipeline {
        Some(p) => get(conn, p)
            .map_err(|_| CrmError::invalid("pipeline_id", "there is no such pipeline"))?,
        None => list(conn)?
            .into_iter()
            .next()
            .ok_or(CrmError::Missing("pipeline"))?,
    };
    pipeline
        .stages
        .into_iter()
        .next()
        .ok_or(CrmError::Conflict("the pipeline has no stages".into()))
}

fn read_pipeline(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<Pipeline> {
    let id: String = r.get(0)?;
    Ok(Pipeline {
        stages: Vec::new(),
        name: r.get(1)?,
        position: r.get(2)?,
        version: r.get(3)?,
        id,
    })
    .map(|mut p| {
        p.stages = stages(conn, &p.id).unwrap_or_default();
        p
    })
}

/// Every pipeline with its stages, in order.
pub fn list(conn: &Connection) -> Result<Vec<Pipeline>, CrmError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, position, version FROM pipelines ORDER BY position, seq",
    )?;
    let pipelines = stmt
        .query_map([], |r| read_pipeline(conn, r))?
        .collect::<Result<_, _>>()?;
    Ok(pipelines)
}

/// One pipeline with its stages.
pub fn get(conn: &Connection, id: &str) -> Result<Pipeline, CrmError> {
    conn.query_row(
        "SELECT id, name, position, version FROM pipelines WHERE id = ?1",
        [id],
        |r| read_pipeline(conn, r),
    )
    .optional()?
    .ok_or(CrmError::Missing("pipeline"))
}

/// A stage as an admin describes it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStage {
    pub name: String,
    pub probability: Option<i64>,
    #[serde(default = "open")]
    pub kind: String,
}

fn open() -> String {
    "open".to_owned()
}

/// A new pipeline as an admin describes it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPipeline {
    pub name: String,
    pub stages: Vec<NewStage>,
}

/// Changes to a pipeline: its name, and the order of its stages (every stage, once).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineChange {
    pub name: Option<String>,
    pub stage_order: Option<Vec<String>>,
}

/// Changes to a stage.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageChange {
    pub name: Option<String>,
    pub probability: Option<i64>,
    pub kind: Option<String>,
}

fn checked_name(field: &str, name: &str) -> Result<String, CrmError> {
    let name = values::line(field, &json!(name))?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CrmError::invalid(field, "must be 1 to 100 characters"));
    }
    Ok(name)
}

fn checked_stage(stage: &NewStage) -> Result<(String, i64, &str), CrmError> {
    let name = checked_name("name", &stage.name)?;
    let kind = STAGE_KINDS
        .iter()
        .copied()
        .find(|k| *k == stage.kind)
        .ok_or_else(|| CrmError::invalid("kind", "must be open, won or lost"))?;
    let default = match kind {
        "won" => 100,
        "lost" => 0,
        _ => 50,
    };
    let probability = stage.probability.unwrap_or(default);
    if !(0..=100).contains(&probability) {
        return Err(CrmError::invalid("probability", "must be 0 to 100"));
    }
    Ok((name, probability, kind))
}

/// Makes a pipeline with its stages.
pub fn create(conn: &Connection, new: &NewPipeline) -> Result<Pipeline, CrmError> {
    let name = checked_name("name", &new.name)?;
    if new.stages.is_empty() || new.stages.len() > MAX_STAGES {
        return Err(CrmError::invalid(
            "stages",
            format!("a pipeline has 1 to {MAX_STAGES} stages"),
        ));
    }
    let count: i64 = conn.query_row("SELECT count(*) FROM pipelines", [], |r| r.get(0))?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_PIPELINES {
        return Err(CrmError::Conflict(format!(
            "a tenant has at most {MAX_PIPELINES} pipelines"
        )));
    }
    let id = super::new_id();
    let now = super::now();
    conn.execute(
        "INSERT INTO pipelines (id, name, position, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id, name, count + 1, now],
    )?;
    for (i, stage) in new.stages.iter().enumerate() {
        insert_stage(conn, &id, stage, i64::try_from(i).unwrap_or(0) + 1)?;
    }
    get(conn, &id)
}

fn insert_stage(
    conn: &Connection,
    pipeline: &str,
    stage: &NewStage,
    position: i64,
) -> Result<String, CrmError> {
    let (name, probability, kind) = checked_stage(stage)?;
    let id = super::new_id();
    conn.execute(
        "INSERT INTO stages (id, pipeline_id, name, position, probability, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, pipeline, name, position, probability, kind],
    )?;
    Ok(id)
}

/// Renames a pipeline or re-orders its stages.
pub fn change(conn: &Connection, id: &str, change: &PipelineChange) -> Result<Pipeline, CrmError> {
    let pipeline = get(conn, id)?;
    if let Some(name) = &change.name {
        let name = checked_name("name", name)?;
        conn.execute(
            "UPDATE pipelines SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
    }
    if let Some(order) = &change.stage_order {
        let mut given = order.clone();
        given.sort();
        let mut have: Vec<String> = pipeline.stages.iter().map(|s| s.id.clone()).collect();
        have.sort();
        if given != have {
            return Err(CrmError::invalid(
                "stage_order",
                "must list every stage of the pipeline once",
            ));
        }
        for (i, stage) in order.iter().enumerate() {
            conn.execute(
                "UPDATE stages SET position = ?2 WHERE id = ?1",
                params![stage, i64::try_from(i).unwrap_or(0) + 1],
            )?;
        }
    }
    conn.execute(
        "UPDATE pipelines SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        params![id, super::now()],
    )?;
    get(conn, id)
}

/// Adds a stage at the end of a pipeline.
pub fn add_stage(conn: &Connection, pipeline: &str, stage: &NewStage) -> Result<Stage, CrmError> {
    let existing = get(conn, pipeline)?.stages;
    if existing.len() >= MAX_STAGES {
        return Err(CrmError::Conflict(format!(
            "a pipeline has at most {MAX_STAGES} stages"
        )));
    }
    let position = existing.last().map_or(1, |s| s.position + 1);
    let id = insert_stage(conn, pipeline, stage, position)?;
    self::stage(conn, &id)
}

/// Renames a stage or changes its probability or kind; a new kind becomes its deals' status.
pub fn change_stage(
    conn: &Connection,
    id: &str,
    change: &StageChange,
    actor: &str,
) -> Result<Stage, CrmError> {
    let current = stage(conn, id)?;
    let merged = NewStage {
        name: change.name.clone().unwrap_or(current.name.clone()),
        probability: change.probability.or(Some(current.probability)),
        kind: change.kind.clone().unwrap_or(current.kind.clone()),
    };
    let (name, probability, kind) = checked_stage(&merged)?;
    conn.execute(
        "UPDATE stages SET name = ?2, probability = ?3, kind = ?4 WHERE id = ?1",
        params![id, name, probability, kind],
    )?;
    if kind != current.kind {
        let moved: Vec<String> = conn
            .prepare("SELECT id FROM deals WHERE stage_id = ?1")?
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let now = super::now();
        conn.execute(
            "UPDATE deals SET status = ?2, closed_at = CASE WHEN ?2 = 'open' THEN NULL ELSE ?3 END,
                 version = version + 1, updated_at = ?3, updated_by = ?4
             WHERE stage_id = ?1",
            params![id, kind, now, actor],
        )?;
        for deal in moved {
            timeline::record(
                conn,
                Kind::Deal,
                &deal,
                actor,
                "updated",
                &json!({ "status": [current.kind, kind] }),
            )?;
        }
    }
    stage(conn, id)
}

/// Removes a stage. Its deals (those in the trash too) move to `move_to`, a stage of the
/// same pipeline; a stage holding deals cannot go without one.
pub fn remove_stage(
    conn: &Connection,
    id: &str,
    move_to: Option<&str>,
    actor: &str,
) -> Result<(), CrmError> {
    let current = stage(conn, id)?;
    let siblings = stages(conn, &current.pipeline_id)?;
    if siblings.len() == 1 {
        return Err(CrmError::Conflict(
            "a pipeline keeps at least one stage".into(),
        ));
    }
    let held: i64 = conn.query_row(
        "SELECT count(*) FROM deals WHERE stage_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if let Some(target) = move_target(conn, held, "stage", move_to)? {
        if target.pipeline_id != current.pipeline_id || target.id == current.id {
            return Err(CrmError::invalid(
                "move_to",
                "must be another stage of the same pipeline",
            ));
        }
        move_all(conn, &current, &target, actor)?;
    }
    conn.execute("DELETE FROM stages WHERE id = ?1", [id])?;
    Ok(())
}

/// Where the `held` deals of a stage or pipeline that goes will move: none needed when it
/// holds none; else `move_to`, which must be a stage.
fn move_target(
    conn: &Connection,
    held: i64,
    what: &str,
    move_to: Option<&str>,
) -> Result<Option<Stage>, CrmError> {
    if held == 0 {
        return Ok(None);
    }
    let target = move_to.ok_or_else(|| {
        CrmError::Conflict(format!(
            "the {what} holds {held} deals: say which stage they move to (move_to)"
        ))
    })?;
    stage(conn, target)
        .map(Some)
        .map_err(|_| CrmError::invalid("move_to", "there is no such stage"))
}

/// Moves every deal of `from` to `to`, each with its timeline entry.
fn move_all(conn: &Connection, from: &Stage, to: &Stage, actor: &str) -> Result<(), CrmError> {
    let deals: Vec<String> = conn
        .prepare("SELECT id FROM deals WHERE stage_id = ?1")?
        .query_map([&from.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let now = super::now();
    conn.execute(
        "UPDATE deals SET pipeline_id = ?2, stage_id = ?3, status = ?4, stage_entered_at = ?5,
             closed_at = CASE WHEN ?4 = 'open' THEN NULL WHEN status = ?4 THEN closed_at ELSE ?5 END,
             version = version + 1, updated_at = ?5, updated_by = ?6
         WHERE stage_id = ?1",
        params![from.id, to.pipeline_id, to.id, to.kind, now, actor],
    )?;
    for deal in deals {
        timeline::record(
            conn,
            Kind::Deal,
            &deal,
            actor,
            "stage_moved",
            &moved(from, to),
        )?;
    }
    Ok(())
}

fn moved(from: &Stage, to: &Stage) -> Value {
    json!({
        "from": { "stage_id": from.id, "stage": from.name, "pipeline_id": from.pipeline_id },
        "to": { "stage_id": to.id, "stage": to.name, "pipeline_id": to.pipeline_id },
        "status": [from.kind, to.kind],
    })
}

/// Removes a pipeline; its deals move to `move_to`, a stage of another pipeline. The last
/// pipeline stays.
pub fn remove(
    conn: &Connection,
    id: &str,
    move_to: Option<&str>,
    actor: &str,
) -> Result<(), CrmError> {
    let pipeline = get(conn, id)?;
    let count: i64 = conn.query_row("SELECT count(*) FROM pipelines", [], |r| r.get(0))?;
    if count == 1 {
        return Err(CrmError::Conflict(
            "a tenant keeps at least one pipeline".into(),
        ));
    }
    let held: i64 = conn.query_row(
        "SELECT count(*) FROM deals WHERE pipeline_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if let Some(target) = move_target(conn, held, "pipeline", move_to)? {
        if target.pipeline_id == id {
            return Err(CrmError::invalid(
                "move_to",
                "must be a stage of another pipeline",
            ));
        }
        for from in &pipeline.stages {
            move_all(conn, from, &target, actor)?;
        }
    }
    conn.execute("DELETE FROM stages WHERE pipeline_id = ?1", [id])?;
    conn.execute("DELETE FROM pipelines WHERE id = ?1", [id])?;
    Ok(())
}

/// Moves a deal to a stage (of its pipeline or another), setting its status from the
/// stage's kind; recorded in its timeline.
pub fn move_deal(
    conn: &Connection,
    id: &str,
    stage_id: &str,
    lost_reason: Option<String>,
    expected: Option<i64>,
    env: Env<'_>,
) -> Result<Record, CrmError> {
    let deal = records::find(conn, Kind::Deal, id, env.visibility, false)?;
    if let Some(expected) = expected {
        records::check_version(&deal, expected)?;
    }
    let to = stage(conn, stage_id)
        .map_err(|_| CrmError::invalid("stage_id", "there is no such stage"))?;
    let from_id = deal.body["stage_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let from = stage(conn, &from_id)?;
    let reason = lost_reason
        .map(|r| values::line("lost_reason", &json!(r)))
        .transpose()?;
    if to.id == from.id && reason.is_none() {
        return records::get(conn, Kind::Deal, id, env.visibility);
    }
    let now = super::now();
    let params = vec![
        rusqlite::types::Value::Text(id.to_owned()),
        rusqlite::types::Value::Text(to.pipeline_id.clone()),
        rusqlite::types::Value::Text(to.id.clone()),
        rusqlite::types::Value::Text(to.kind.clone()),
        rusqlite::types::Value::Integer(now),
        reason.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text),
    ];
    records::bump(
        conn,
        Kind::Deal,
        &[
            "pipeline_id = ?2".into(),
            "stage_id = ?3".into(),
            "status = ?4".into(),
            "stage_entered_at = CASE WHEN stage_id = ?3 THEN stage_entered_at ELSE ?5 END".into(),
            "closed_at = CASE WHEN ?4 = 'open' THEN NULL WHEN status = ?4 THEN closed_at ELSE ?5 END".into(),
            "lost_reason = CASE WHEN ?4 = 'lost' THEN coalesce(?6, lost_reason) ELSE lost_reason END".into(),
        ],
        params,
        &env.actor.name,
    )?;
    timeline::record(
        conn,
        Kind::Deal,
        id,
        &env.actor.name,
        "stage_moved",
        &moved(&from, &to),
    )?;
    records::get(conn, Kind::Deal, id, env.visibility)
}
