//! Teams, and the visibility setting of each kind of record that uses them.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::visibility::Visibility;
use super::{Actor, CrmError, Kind, values};
use crate::identity::Role;

/// Most teams of a tenant, and most members of one team.
pub const MAX_TEAMS: usize = 200;
pub const MAX_MEMBERS: usize = 1_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
    pub version: i64,
}

/// Who sees records of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Everyone with access to the tenant.
    All,
    /// Admins and owners; others only records owned by themselves or by a teammate.
    OwnAndTeam,
}

/// The visibility rule of every kind.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub contact: Rule,
    pub company: Rule,
    pub deal: Rule,
    pub activity: Rule,
}

impl Rules {
    fn of(&self, kind: Kind) -> Rule {
        match kind {
            Kind::Contact => self.contact,
            Kind::Company => self.company,
            Kind::Deal => self.deal,
            Kind::Activity => self.activity,
        }
    }
}

/// The rules as set.
pub fn rules(conn: &Connection) -> Result<Rules, CrmError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM crm_settings WHERE key LIKE 'visibility.%'")?;
    let mut rules = Rules {
        contact: Rule::All,
        company: Rule::All,
        deal: Rule::All,
        activity: Rule::All,
    };
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (key, value) = row?;
        let rule: Rule = serde_json::from_str(&value).unwrap_or(Rule::All);
        match key.trim_start_matches("visibility.") {
            "contact" => rules.contact = rule,
            "company" => rules.company = rule,
            "deal" => rules.deal = rule,
            "activity" => rules.activity = rule,
            _ => {}
        }
    }
    Ok(rules)
}

/// Sets the rules.
pub fn set_rules(conn: &Connection, rules: &Rules) -> Result<(), CrmError> {
    for kind in Kind::ALL {
        conn.execute(
            "INSERT INTO crm_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![
                format!("visibility.{kind}"),
                json!(rules.of(kind)).to_string()
            ],
        )?;
    }
    Ok(())
}

/// What `actor` may see: everything for admins and owners; under `own_and_team`, records
/// owned by them or a teammate. A token acts for no user, so under `own_and_team` a token
/// below admin sees none of that kind.
pub fn visibility_of(conn: &Connection, actor: &Actor) -> Result<Visibility, CrmError> {
    if actor.role.at_least(Role::Admin) {
        return Ok(Visibility::all());
    }
    let rules = rules(conn)?;
    if Kind::ALL.iter().all(|k| rules.of(*k) == Rule::All) {
        return Ok(Visibility::all());
    }
    let mut users: Vec<String> = Vec::new();
    if let Some(me) = &actor.user_id {
        users.push(me.clone());
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT theirs.user_id FROM team_members mine
             JOIN team_members theirs ON theirs.team_id = mine.team_id
             WHERE mine.user_id = ?1 AND theirs.user_id <> ?1",
        )?;
        for row in stmt.query_map([me], |r| r.get::<_, String>(0))? {
            users.push(row?);
        }
    }
    let mut visibility = Visibility::all();
    for kind in Kind::ALL {
        if rules.of(kind) == Rule::OwnAndTeam {
            visibility = visibility.limit(kind, users.clone());
        }
    }
    Ok(visibility)
}

/// Every team with its members.
pub fn list(conn: &Connection) -> Result<Vec<Team>, CrmError> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM teams WHERE deleted_at IS NULL ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter().map(|id| get(conn, id)).collect()
}

/// One team.
pub fn get(conn: &Connection, id: &str) -> Result<Team, CrmError> {
    let found = conn
        .query_row(
            "SELECT name, version FROM teams WHERE id = ?1 AND deleted_at IS NULL",
            [id],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?
        .ok_or(CrmError::Missing("team"))?;
    let member_ids = conn
        .prepare_cached("SELECT user_id FROM team_members WHERE team_id = ?1 ORDER BY user_id")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Team {
        id: id.to_owned(),
        name: found.0,
        member_ids,
        version: found.1,
    })
}

/// A team as an admin describes it; on a change, only what is given.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: Option<String>,
    pub member_ids: Option<Vec<String>>,
}

fn checked_members(given: &[String], is_user: &dyn Fn(&str) -> bool) -> Result<(), CrmError> {
    if given.len() > MAX_MEMBERS {
        return Err(CrmError::invalid(
            "member_ids",
            format!("a team has at most {MAX_MEMBERS} members"),
        ));
    }
    match given.iter().find(|id| !is_user(id)) {
        Some(id) => Err(CrmError::invalid(
            "member_ids",
            format!("there is no user {id} in this tenant"),
        )),
        None => Ok(()),
    }
}

fn checked_name(name: &str) -> Result<String, CrmError> {
    let name = values::line("name", &json!(name))?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CrmError::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(name)
}

fn set_members(conn: &Connection, id: &str, members: &[String]) -> Result<(), CrmError> {
    conn.execute("DELETE FROM team_members WHERE team_id = ?1", [id])?;
    for user in members {
        conn.execute(
            "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)",
            [id, user],
        )?;
    }
    Ok(())
}

/// Makes a team of `users` of the tenant.
pub fn create(
    conn: &Connection,
    input: &TeamInput,
    is_user: &dyn Fn(&str) -> bool,
) -> Result<Team, CrmError> {
    let name = checked_name(input.name.as_deref().unwrap_or_default())?;
    let members = input.member_ids.clone().unwrap_or_default();
    checked_members(&members, is_user)?;
    let count: i64 = conn.query_row("SELECT count(*) FROM teams", [], |r| r.get(0))?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_TEAMS {
        return Err(CrmError::Conflict(format!(
            "a tenant has at most {MAX_TEAMS} teams"
        )));
    }
    let id = super::new_id();
    let made = conn.execute(
        "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING",
        params![id, name, super::now()],
    )?;
    if made == 0 {
        return Err(CrmError::Conflict(format!(
            "a team is called {name:?} already"
        )));
    }
    set_members(conn, &id, &members)?;
    get(conn, &id)
}

/// Renames a team or replaces its members.
pub fn change(
    conn: &Connection,
    id: &str,
    input: &TeamInput,
    is_user: &dyn Fn(&str) -> bool,
) -> Result<Team, CrmError> {
    get(conn, id)?;
    if let Some(name) = &input.name {
        let name = checked_name(name)?;
        let taken: Option<String> = conn
            .query_row(
                "SELECT id FROM teams WHERE name = ?1 AND id <> ?2 AND deleted_at IS NULL",
                [&name, id],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(CrmError::Conflict(format!(
                "a team is called {name:?} already"
            )));
        }
        conn.execute("UPDATE teams SET name = ?2 WHERE id = ?1", [id, &name])?;
    }
    if let Some(members) = &input.member_ids {
        checked_members(members, is_user)?;
        set_members(conn, id, members)?;
    }
    conn.execute("UPDATE teams SET version = version + 1 WHERE id = ?1", [id])?;
    get(conn, id)
}

/// Removes a team (its records stay with their owners); removing it again is done already.
pub fn remove(conn: &Connection, id: &str) -> Result<(), CrmError> {
    let found = conn.execute(
        "UPDATE teams SET deleted_at = coalesce(deleted_at, ?2) WHERE id = ?1",
        params![id, super::now()],
    )?;
    if found == 0 {
        return Err(CrmError::Missing("team"));
    }
    conn.execute("DELETE FROM team_members WHERE team_id = ?1", [id])?;
    Ok(())
}
