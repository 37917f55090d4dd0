//! Seeds one tenant's database with a generated CRM, through the same code that creates a
//! record for the API (`crm::records::parse` then `crm::records::create`: the record, its
//! tags, links, timeline entry and search index), in batches of one `BEGIN IMMEDIATE`
//! transaction each. Then writes the same rows with plain `INSERT`s into plain tables of the
//! same columns in a scratch database (same PRAGMAs, same batches): the baseline.
//!
//! Usage: `cargo run --release --example crm_seed -- <data-dir> <tenant-slug-or-id>
//!         [--scale 1.0] [--batch 5000]`
//!
//! At scale 1: 100,000 companies, 1,000,000 contacts, 200,000 deals (about 10,000 open in the
//! Sales pipeline, the rest won or lost, in Sales and a second pipeline) and 1,000,000
//! activities. Values come from small word lists and a fixed seed, so every run writes the
//! same records (only ids and creation times differ). Progress goes to stderr; the figures
//! go to stdout as one JSON object.
//!
//! `records::create` stamps every record with the time it runs, so a seeded tenant would
//! have closed every deal in the last minutes. Once the deals are in, one `UPDATE` spreads
//! the closed deals' `closed_at` (and `stage_entered_at`) over the last three years, as an
//! imported history would be; it is timed apart from the seeding.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use holdfast::crm::pipelines::{self, NewPipeline, NewStage};
use holdfast::crm::records::{self, Env};
use holdfast::crm::visibility::Visibility;
use holdfast::crm::{Actor, Kind};
use holdfast::identity::Role;
use holdfast::tenancy::{TenantDatabases, TenantId};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

/// Records of each kind at scale 1, in the order they are made.
const FULL: [(Kind, f64); 4] = [
    (Kind::Company, 100_000.0),
    (Kind::Contact, 1_000_000.0),
    (Kind::Deal, 200_000.0),
    (Kind::Activity, 1_000_000.0),
];
/// Open deals in the Sales pipeline at scale 1.
const OPEN_SALES: f64 = 10_000.0;
const SEED: u64 = 0x00C0_FFEE_5EED;
/// Page cache of both connections (KiB, as `PRAGMA cache_size` takes it when negative).
const CACHE_KIB: i64 = 262_144;
const THREE_YEARS: i64 = 3 * 365 * 86_400;

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "John",
    "Radia", "Edsger", "Hedy", "Tim", "Katherine", "Donald", "Sophie", "Niklaus", "Karen",
    "Bjarne", "Anita", "Guido", "Shafi", "Leslie", "Mary", "James", "Lucy", "Oliver", "Emma",
    "Noah", "Olivia", "Liam", "Amelia", "Elijah", "Mia", "Lucas", "Harper", "Mateo", "Evelyn",
    "Henry", "Ella", "Theo", "Aria", "Leo", "Chloe", "Jack", "Nora", "Hugo", "Lena", "Felix",
    "Clara", "Oscar", "Ines", "Arthur", "Maya", "Louis", "Zoe", "Paul", "Julia", "Max", "Alice",
    "Samuel", "Rosa", "Daniel", "Iris", "David", "Elena", "Marco", "Sara", "Jonas", "Lea", "Emil",
    "Anna", "Anton", "Eva", "Victor", "Nina", "Adrian", "Laura", "Simon", "Marta", "Tomas",
    "Hannah", "Pablo", "Irene", "Kenji", "Yuki", "Wei", "Mei", "Arjun", "Priya", "Omar", "Layla",
    "Kwame", "Amara", "Sven", "Freya", "Mikhail", "Olga", "Diego", "Camila",
];

#[rustfmt::skip]
const LAST: &[&str] = &[
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Backus", "Perlman", "Dijkstra", "Lamarr", "Berners-Lee", "Johnson", "Knuth",
    "Wilson", "Wirth", "Jones", "Stroustrup", "Borg", "Rossum", "Goldwasser", "Lamport", "Shelley",
    "Smith", "Brown", "Taylor", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright",
    "Robinson", "Wood", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Lewis",
    "Harris", "Clarke", "Patel", "Jackson", "Martin", "Cooper", "King", "Lee", "Baker", "Harrison",
    "Morgan", "Allen", "Young", "Mitchell", "Bell", "Kelly", "Murphy", "Muller", "Schmidt",
    "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Martin",
    "Bernard", "Dubois", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel",
    "Garcia", "Fernandez", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez", "Ruiz", "Rossi",
    "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Jansen",
    "Visser", "Bakker", "Janssens", "Peeters", "Nilsson", "Larsson", "Eriksson", "Hansen",
    "Nielsen", "Kowalski", "Nowak", "Novak", "Horvat", "Ivanov", "Popescu", "Silva", "Santos",
    "Oliveira", "Costa", "Tanaka", "Suzuki", "Sato", "Watanabe", "Kim", "Park", "Chen", "Wang",
    "Zhang", "Liu", "Singh", "Kumar", "Sharma", "Okafor", "Mensah", "Haddad", "Nasser", "Cohen",
    "Levi", "OBrien", "Walsh", "Byrne", "Ryan", "Murray", "Fraser",
];

#[rustfmt::skip]
const COMPANY_WORDS: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
    "Soylent", "Hooli", "Vandelay", "Pied", "Piper", "Massive", "Dynamic", "Blue", "Red", "Green",
    "Silver", "Golden", "North", "South", "East", "West", "Alpine", "Harbor", "River", "Summit",
    "Pioneer", "Vertex", "Quantum", "Nimbus", "Orbit", "Atlas", "Beacon", "Cedar", "Falcon",
    "Granite", "Horizon", "Ion", "Juniper", "Kestrel", "Lumen", "Meridian", "Nova", "Oak", "Polar",
    "Quartz", "Redwood", "Sierra", "Tidal", "Union", "Vista", "Willow", "Zenith",
];
#[rustfmt::skip]
const COMPANY_SUFFIXES: &[&str] = &[
    "Labs", "Systems", "Works", "Group", "Partners", "Holdings", "Industries", "Logistics",
    "Foods", "Health", "Energy", "Software", "Consulting", "Capital", "Media", "Robotics",
];
#[rustfmt::skip]
const INDUSTRIES: &[&str] = &[
    "Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics", "Energy",
    "Education", "Media", "Construction", "Hospitality", "Agriculture", "Telecom", "Legal",
];
const SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+"];
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "CEO", "CTO", "CFO", "Head of Sales", "Account Executive", "Engineer", "Office Manager",
    "Procurement Lead", "Marketing Director", "Operations Manager", "Founder", "Consultant",
];
const SOURCES: &[&str] = &["web", "referral", "event", "cold call", "partner", "import"];
#[rustfmt::skip]
const TAGS: &[&str] = &[
    "vip", "newsletter", "partner", "churn-risk", "upsell", "trial", "enterprise", "smb",
    "event-2024", "event-2025", "renewal", "reference",
];
#[rustfmt::skip]
const PRODUCTS: &[&str] = &[
    "licenses", "renewal", "expansion", "pilot", "support plan", "onboarding", "hardware",
    "consulting", "training", "integration",
];
/// Currencies of deals, with weights.
const CURRENCIES: &[(&str, u64)] = &[("USD", 60), ("EUR", 25), ("GBP", 10), ("JPY", 5)];
const ACTIVITY_KINDS: &[(&str, &str)] = &[
    ("task", "Follow up with"),
    ("call", "Call with"),
    ("meeting", "Meeting with"),
    ("email", "E-mail to"),
    ("note", "Notes on"),
];
#[rustfmt::skip]
const BODY_WORDS: &[&str] = &[
    "pricing", "contract", "budget", "timeline", "demo", "proposal", "invoice", "renewal",
    "discount", "security", "review", "legal", "signature", "quarter", "roadmap", "feedback",
    "support", "migration", "training", "rollout", "team", "decision", "next", "steps", "call",
    "agreed", "send", "quote", "questions", "integration", "users", "seats", "trial", "onsite",
];

/// splitmix64: small, fast, and the same numbers on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next() % n).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn weighted<'a>(&mut self, items: &[(&'a str, u64)]) -> &'a str {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.next() % total;
        for (item, weight) in items {
            if roll < *weight {
                return item;
            }
            roll -= weight;
        }
        items[0].0
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low).unwrap_or(1).max(1);
        low + i64::try_from(self.next() % span).unwrap_or(0)
    }
}

/// A stage deals can be put in.
#[derive(Clone)]
struct Target {
    pipeline: String,
    stage: String,
    kind: String,
}

/// Where deals go: the Sales pipeline's open stages, and the closed stages of every pipeline.
struct Stages {
    open_sales: Vec<Target>,
    won: Vec<Target>,
    lost: Vec<Target>,
}

/// How many records of each kind, and of open deals.
#[derive(Clone, Copy)]
struct Counts {
    of: [(Kind, usize); 4],
    open_sales: usize,
}

impl Counts {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn at(scale: f64) -> Counts {
        let n = |full: f64| (full * scale).round().max(1.0) as usize;
        Counts {
            of: FULL.map(|(kind, full)| (kind, n(full))),
            open_sales: n(OPEN_SALES),
        }
    }

    fn total(self) -> usize {
        self.of.iter().map(|(_, n)| n).sum()
    }
}

/// Makes the API body of each record, the same sequence for the same seed. Records are
/// referred to by their position; the ids come from whoever writes them.
struct Generator {
    rng: Rng,
    now: i64,
    counts: Counts,
    company_domains: Vec<String>,
    companies: Vec<String>,
    contacts: Vec<String>,
    deals: Vec<String>,
}

impl Generator {
    fn new(counts: Counts, now: i64) -> Generator {
        Generator {
            rng: Rng(SEED),
            now,
            counts,
            company_domains: Vec::new(),
            companies: Vec::new(),
            contacts: Vec::new(),
            deals: Vec::new(),
        }
    }

    fn remember(&mut self, kind: Kind, id: String) {
        match kind {
            Kind::Company => self.companies.push(id),
            Kind::Contact => self.contacts.push(id),
            Kind::Deal => self.deals.push(id),
            Kind::Activity => {}
        }
    }

    fn body(&mut self, kind: Kind, i: usize, stages: &Stages) -> Map<String, Value> {
        let body = match kind {
            Kind::Company => self.company(i),
            Kind::Contact => self.contact(i),
            Kind::Deal => self.deal(stages),
            Kind::Activity => self.activity(),
        };
        match body {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn company(&mut self, i: usize) -> Value {
        let r = &mut self.rng;
        let (a, b) = (r.pick(COMPANY_WORDS), r.pick(COMPANY_WORDS));
        let suffix = r.pick(COMPANY_SUFFIXES);
        let domain = format!("{}{}{i}.example", a.to_lowercase(), b.to_lowercase());
        let body = json!({
            "name": format!("{a} {b} {suffix}"),
            "domain": domain,
            "industry": r.pick(INDUSTRIES),
            "size": r.pick(SIZES),
            "phone": format!("+1 555 {:04}", r.below(10_000)),
            "address": format!("{} {} Street\n{:05} Springfield", 1 + r.below(999), r.pick(LAST), r.below(100_000)),
            "website": format!("https://www.{domain}/"),
            "lifecycle_stage": r.weighted(&[("lead", 30), ("qualified", 20), ("customer", 40), ("other", 10)]),
        });
        self.company_domains.push(domain);
        body
    }

    fn contact(&mut self, i: usize) -> Value {
        let r = &mut self.rng;
        let (first, last) = (r.pick(FIRST), r.pick(LAST));
        let company =
            (!self.companies.is_empty() && r.chance(85)).then(|| r.below(self.companies.len()));
        let domain = company.map_or("mail.example", |c| self.company_domains[c].as_str());
        let email = format!(
            "{}.{}{}@{domain}",
            first.to_lowercase(),
            last.to_lowercase(),
            i % 100
        );
        let mut body = json!({
            "first_name": first,
            "last_name": last,
            "emails": [email],
            "phones": [format!("+1 555 {:03} {:04}", r.below(1000), r.below(10_000))],
            "title": r.pick(TITLES),
            "lifecycle_stage": r.weighted(&[("lead", 40), ("qualified", 25), ("customer", 25), ("other", 10)]),
            "source": r.pick(SOURCES),
        });
        if let Some(c) = company {
            body["company_id"] = json!(self.companies[c]);
        }
        if r.chance(30) {
            let mut tags = vec![r.pick(TAGS)];
            if r.chance(30) {
                tags.push(r.pick(TAGS));
            }
            tags.dedup();
            body["tags"] = json!(tags);
        }
        body
    }

    fn deal(&mut self, stages: &Stages) -> Value {
        let r = &mut self.rng;
        let open = r.below(self.counts.of[2].1) < self.counts.open_sales;
        let target = if open {
            &stages.open_sales[r.below(stages.open_sales.len())]
        } else if r.chance(40) {
            &stages.won[r.below(stages.won.len())]
        } else {
            &stages.lost[r.below(stages.lost.len())]
        };
        let currency = r.weighted(CURRENCIES);
        let amount = if currency == "JPY" {
            r.between(100_000, 50_000_000)
        } else {
            r.between(50_000, 50_000_000)
        };
        let company = r.below(self.companies.len());
        let mut contacts = vec![self.contacts[r.below(self.contacts.len())].clone()];
        if r.chance(30) {
            contacts.push(self.contacts[r.below(self.contacts.len())].clone());
        }
        contacts.dedup();
        let days = r.between(0, 365);
        let mut body = json!({
            "title": format!("{} – {}", r.pick(COMPANY_WORDS), r.pick(PRODUCTS)),
            "amount": amount,
            "currency": currency,
            "pipeline_id": target.pipeline,
            "stage_id": target.stage,
            "company_id": self.companies[company],
            "contact_ids": contacts,
            "expected_close": format!("2026-{:02}-{:02}", 1 + days / 31 % 12, 1 + days % 28),
        });
        if r.chance(20) {
            body["probability"] = json!(r.below(101));
        }
        if target.kind == "lost" && r.chance(50) {
            body["lost_reason"] = json!(r.pick(&["price", "timing", "competitor", "no budget"]));
        }
        body
    }

    fn activity(&mut self) -> Value {
        let r = &mut self.rng;
        let (kind, verb) = ACTIVITY_KINDS[r.below(ACTIVITY_KINDS.len())];
        let now = self.now;
        let due = r.between(now - 90 * 86_400, now + 90 * 86_400);
        let mut body = json!({
            "kind": kind,
            "subject": format!("{verb} {} {}", r.pick(FIRST), r.pick(LAST)),
            "due_at": holdfast::crm::values::rfc3339(due),
        });
        if r.chance(50) {
            let words: Vec<&str> = (0..12 + r.below(20)).map(|_| r.pick(BODY_WORDS)).collect();
            body["body"] = json!(words.join(" "));
        }
        if due < now && r.chance(80) {
            body["done_at"] = json!(holdfast::crm::values::rfc3339(due + 3600));
        }
        let mut links =
            vec![json!({"kind": "contact", "id": self.contacts[r.below(self.contacts.len())]})];
        if !self.deals.is_empty() && r.chance(30) {
            links.push(json!({"kind": "deal", "id": self.deals[r.below(self.deals.len())]}));
        }
        body["links"] = json!(links);
        body
    }
}

/// Writes one record and answers its id.
trait Sink {
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn write(&mut self, kind: Kind, body: &Map<String, Value>) -> Result<String>;
}

/// Holdfast's own path: what `POST /<kind>` runs inside its transaction.
struct Holdfast {
    conn: Connection,
    actor: Actor,
    users: HashSet<String>,
}

impl Sink for Holdfast {
    fn begin(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn write(&mut self, kind: Kind, body: &Map<String, Value>) -> Result<String> {
        let visibility = Visibility::all();
        let env = Env {
            actor: &self.actor,
            visibility: &visibility,
            users: &self.users,
        };
        let input = records::parse(&self.conn, kind, body, true)
            .with_context(|| format!("{kind}: {}", Value::Object(body.clone())))?;
        Ok(records::create(&self.conn, kind, input, env)?.id)
    }
}

/// The baseline: the same values with plain `INSERT`s into tables without indexes, search
/// index, timeline or checks.
struct Raw {
    conn: Connection,
    actor: String,
    owner: String,
    stage_kinds: HashMap<String, String>,
}

#[rustfmt::skip]
const RAW_SYSTEM: &[&str] = &[
    "id", "version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at",
    "deleted_by", "custom",
];

impl Raw {
    fn open(path: &Path, actor: &str, owner: &str, stages: &Stages) -> Result<Raw> {
        let conn = Connection::open(path)?;
        holdfast::storage::configure_connection(&conn)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        for kind in Kind::ALL {
            let columns: Vec<&str> = RAW_SYSTEM
                .iter()
                .copied()
                .chain(kind.fields().iter().map(|f| f.name))
                .collect();
            conn.execute_batch(&format!(
                "CREATE TABLE {} (seq INTEGER PRIMARY KEY, {})",
                kind.table(),
                columns.join(", ")
            ))?;
        }
        conn.execute_batch(
            "CREATE TABLE deal_contacts (deal_id, contact_id);
             CREATE TABLE activity_links (activity_id, record_kind, record_id);
             CREATE TABLE record_tags (record_kind, record_id, tag);",
        )?;
        let stage_kinds = [&stages.open_sales, &stages.won, &stages.lost]
            .into_iter()
            .flatten()
            .map(|t| (t.stage.clone(), t.kind.clone()))
            .collect();
        Ok(Raw {
            conn,
            actor: actor.to_owned(),
            owner: owner.to_owned(),
            stage_kinds,
        })
    }

    /// A JSON value as the column stores it.
    fn value(kind: Kind, name: &str, value: &Value) -> Sql {
        let time = kind
            .field(name)
            .is_some_and(|f| f.ty == holdfast::crm::fields::FieldType::Time);
        match value {
            Value::String(s) if time => {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map_or(Sql::Null, |t| Sql::Integer(t.unix_timestamp()))
            }
            Value::String(s) => Sql::Text(s.clone()),
            Value::Number(n) => n.as_i64().map_or(Sql::Null, Sql::Integer),
            Value::Null => Sql::Null,
            other => Sql::Text(other.to_string()),
        }
    }

    fn links(&self, kind: Kind, id: &str, body: &Map<String, Value>) -> Result<()> {
        let strings = |name: &str| -> Vec<String> {
            body.get(name)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        for tag in strings("tags") {
            self.conn
                .prepare_cached("INSERT INTO record_tags VALUES (?1, ?2, ?3)")?
                .execute([kind.as_str(), id, &tag])?;
        }
        for contact in strings("contact_ids") {
            self.conn
                .prepare_cached("INSERT INTO deal_contacts VALUES (?1, ?2)")?
                .execute([id, &contact])?;
        }
        for link in body
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let part = |k: &str| link.get(k).and_then(Value::as_str).unwrap_or_default();
            self.conn
                .prepare_cached("INSERT INTO activity_links VALUES (?1, ?2, ?3)")?
                .execute([id, part("kind"), part("id")])?;
        }
        Ok(())
    }
}

impl Sink for Raw {
    fn begin(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn write(&mut self, kind: Kind, body: &Map<String, Value>) -> Result<String> {
        let id = holdfast::crm::new_id();
        let now = holdfast::crm::now();
        let mut names = vec![
            "id",
            "version",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "custom",
        ];
        let mut values = vec![
            Sql::Text(id.clone()),
            Sql::Integer(1),
            Sql::Integer(now),
            Sql::Text(self.actor.clone()),
            Sql::Integer(now),
            Sql::Text(self.actor.clone()),
            Sql::Text("{}".into()),
        ];
        for (name, value) in body {
            if let Some(field) = kind.field(name) {
                names.push(field.name);
                values.push(Raw::value(kind, name, value));
            }
        }
        names.push(kind.owner_column());
        values.push(Sql::Text(self.owner.clone()));
        if kind == Kind::Deal {
            let stage = body
                .get("stage_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let status = self.stage_kinds.get(stage).cloned().unwrap_or_default();
            names.extend(["stage_entered_at", "closed_at"]);
            let closed = if status == "open" {
                Sql::Null
            } else {
                Sql::Integer(now)
            };
            values.extend([Sql::Integer(now), closed]);
            names.push("status");
            values.push(Sql::Text(status));
        }
        let marks: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO {} ({}) VALUES ({})",
                kind.table(),
                names.join(", "),
                marks.join(", ")
            ))?
            .execute(params_from_iter(values))?;
        self.links(kind, &id, body)?;
        Ok(id)
    }
}

/// What to write: how many of each kind, where deals go, how many to a transaction, and
/// the time activities are planned around.
struct Plan {
    counts: Counts,
    stages: Stages,
    batch: usize,
    now: i64,
}

/// Writes every record through `sink`, `batch` to a transaction; answers seconds per kind.
fn seed(sink: &mut dyn Sink, plan: &Plan, label: &str) -> Result<Vec<(Kind, f64)>> {
    let (counts, stages, batch) = (plan.counts, &plan.stages, plan.batch);
    let mut generator = Generator::new(counts, plan.now);
    let mut times = Vec::new();
    for (kind, n) in counts.of {
        let start = Instant::now();
        let mut i = 0;
        while i < n {
            sink.begin()?;
            for j in i..(i + batch).min(n) {
                let body = generator.body(kind, j, stages);
                let id = sink.write(kind, &body)?;
                generator.remember(kind, id);
            }
            sink.commit()?;
            i = (i + batch).min(n);
            if i % 100_000 < batch || i == n {
                eprintln!(
                    "{label}: {i}/{n} {} in {:.1} s",
                    kind.table(),
                    start.elapsed().as_secs_f64()
                );
            }
        }
        times.push((kind, start.elapsed().as_secs_f64()));
    }
    Ok(times)
}

/// The tenant's id (given, or found by slug in the control database) and its owner's.
fn tenant_and_owner(data_dir: &Path, tenant: &str) -> Result<(TenantId, String)> {
    let control = Connection::open(data_dir.join("holdfast.db"))?;
    let id: String = control
        .query_row(
            "SELECT id FROM tenants WHERE slug = ?1 OR id = ?1",
            [tenant],
            |r| r.get(0),
        )
        .optional()?
        .with_context(|| format!("no tenant {tenant} in {}", data_dir.display()))?;
    let owner: String = control
        .query_row(
            "SELECT id FROM users WHERE tenant_id = ?1 AND role = 'owner' ORDER BY created_at LIMIT 1",
            [&id],
            |r| r.get(0),
        )
        .optional()?
        .context("the tenant has no owner")?;
    Ok((
        id.parse()
            .map_err(|_| anyhow::anyhow!("bad tenant id {id}"))?,
        owner,
    ))
}

/// The Sales pipeline's open stages, and every pipeline's closed stages, after adding a
/// second pipeline.
fn stages(conn: &Connection) -> Result<Stages> {
    let stage = |kind: &str| NewStage {
        name: String::new(),
        probability: None,
        kind: kind.into(),
    };
    pipelines::create(
        conn,
        &NewPipeline {
            name: "Renewals".into(),
            stages: vec![
                NewStage {
                    name: "Up for renewal".into(),
                    ..stage("open")
                },
                NewStage {
                    name: "Renewed".into(),
                    ..stage("won")
                },
                NewStage {
                    name: "Churned".into(),
                    ..stage("lost")
                },
            ],
        },
    )?;
    let mut found = Stages {
        open_sales: Vec::new(),
        won: Vec::new(),
        lost: Vec::new(),
    };
    for pipeline in pipelines::list(conn)? {
        for s in pipeline.stages {
            let target = Target {
                pipeline: s.pipeline_id.clone(),
                stage: s.id.clone(),
                kind: s.kind.clone(),
            };
            match s.kind.as_str() {
                "open" if pipeline.name == "Sales" => found.open_sales.push(target),
                "won" => found.won.push(target),
                "lost" => found.lost.push(target),
                _ => {}
            }
        }
    }
    if found.open_sales.is_empty() || found.won.is_empty() || found.lost.is_empty() {
        bail!("the tenant has no Sales pipeline with open, won and lost stages");
    }
    Ok(found)
}

/// Spreads closed deals over the last three years (see the top of this file).
fn backdate(conn: &Connection) -> Result<f64> {
    let start = Instant::now();
    conn.execute(
        "UPDATE deals SET closed_at = closed_at - (seq * 2654435761) % ?1,
                          stage_entered_at = closed_at - (seq * 2654435761) % ?1
         WHERE closed_at IS NOT NULL",
        [THREE_YEARS],
    )?;
    Ok(start.elapsed().as_secs_f64())
}

struct Args {
    data_dir: PathBuf,
    tenant: String,
    scale: f64,
    batch: usize,
}

fn args() -> Result<Args> {
    let mut positional = Vec::new();
    let (mut scale, mut batch) = (1.0, 5000);
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--scale" => scale = given.next().context("--scale takes a number")?.parse()?,
            "--batch" => batch = given.next().context("--batch takes a number")?.parse()?,
            _ => positional.push(arg),
        }
    }
    let [data_dir, tenant] = <[String; 2]>::try_from(positional).map_err(|_| {
        anyhow::anyhow!(
            "usage: crm_seed <data-dir> <tenant-slug-or-id> [--scale 1.0] [--batch 5000]"
        )
    })?;
    if !(scale > 0.0 && batch > 0) {
        bail!("--scale and --batch must be positive");
    }
    Ok(Args {
        data_dir: data_dir.into(),
        tenant,
        scale,
        batch,
    })
}

fn float(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

fn rates(times: &[(Kind, f64)], counts: Counts) -> Value {
    let seconds: f64 = times.iter().map(|(_, s)| s).sum();
    let by_kind: Map<String, Value> = times
        .iter()
        .zip(counts.of)
        .map(|((kind, s), (_, n))| (kind.table().to_owned(), json!(float(n) / s)))
        .collect();
    json!({
        "seconds": seconds,
        "records_per_s": float(counts.total()) / seconds,
        "by_kind": by_kind,
    })
}

fn main() -> Result<()> {
    let args = args()?;
    let counts = Counts::at(args.scale);
    let (tenant, owner) = tenant_and_owner(&args.data_dir, &args.tenant)?;
    let databases = TenantDatabases::new(&args.data_dir.join("tenants"), NonZeroUsize::MIN);
    let db = databases.get(&tenant)?;
    let path = db.path().to_path_buf();
    drop(databases);
    drop(db);
    let conn = Connection::open(&path)?;
    holdfast::storage::configure_connection(&conn)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    let existing: i64 = conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))?;
    if existing > 0 {
        bail!("the tenant has {existing} contacts already: seed a fresh one");
    }
    let stages = stages(&conn)?;
    let actor = Actor {
        name: format!("user:{owner}"),
        user_id: Some(owner.clone()),
        role: Role::Owner,
    };
    let mut holdfast = Holdfast {
        conn,
        users: HashSet::from([owner.clone()]),
        actor,
    };
    let plan = Plan {
        counts,
        stages,
        batch: args.batch,
        now: holdfast::crm::now(),
    };
    let times = seed(&mut holdfast, &plan, "records::create")?;
    let backdated = backdate(&holdfast.conn)?;
    holdfast
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    let db_bytes = std::fs::metadata(&path)?.len();
    drop(holdfast);

    let scratch = tempfile::tempdir()?;
    let mut raw = Raw::open(
        &scratch.path().join("raw.db"),
        &format!("user:{owner}"),
        &owner,
        &plan.stages,
    )?;
    let raw_times = seed(&mut raw, &plan, "raw INSERT")?;

    let ours = rates(&times, counts);
    let baseline = rates(&raw_times, counts);
    let ratio = ours["records_per_s"].as_f64().unwrap_or(0.0)
        / baseline["records_per_s"].as_f64().unwrap_or(1.0);
    let records: Map<String, Value> = counts
        .of
        .iter()
        .map(|(kind, n)| (kind.table().to_owned(), json!(n)))
        .collect();
    println!(
        "{}",
        json!({
            "scale": args.scale,
            "batch": args.batch,
            "records": records,
            "open_sales_deals_planned": counts.open_sales,
            "holdfast": ours,
            "raw": baseline,
            "ratio": ratio,
            "backdate_seconds": backdated,
            "db_bytes": db_bytes,
        })
    );
    Ok(())
}
