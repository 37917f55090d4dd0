//! The built-in fields of each kind of record. A field's name is its column's and its JSON
//! member's: the API, the filters, the sort and the timeline all speak of fields by these
//! names, and nothing else reaches SQL as an identifier.

/// What a field holds, and so how its values are checked, stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Single-line text that is never absent (stored `''` when empty).
    Name,
    /// Single-line text, or null.
    Text,
    /// Text of many lines, or null.
    LongText,
    /// A list of e-mail addresses, the first the primary.
    Emails,
    /// A list of phone numbers.
    Phones,
    /// A phone number, or null.
    Phone,
    /// An `http(s)` address, or null.
    Url,
    /// A domain name such as `example.com`, or null.
    Domain,
    /// `YYYY-MM-DD`, or null.
    Date,
    /// A moment: RFC 3339 in JSON, Unix seconds in the database; or null.
    Time,
    /// A count kept by Holdfast (a version).
    Count,
    /// A whole percent, 0 to 100; or null.
    Percent,
    /// An amount in minor units of its record's currency; or null.
    Money,
    /// An ISO 4217 code.
    Currency,
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
    /// A user of the tenant (an id in the control database), or null.
    User,
    /// A live company of the tenant, or null.
    Company,
    /// A pipeline of the tenant.
    Pipeline,
    /// A stage of the record's pipeline.
    Stage,
}

/// Who may write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writable {
    Always,
    /// Given when the record is made; changed afterwards only by its own call (a stage move).
    OnCreate,
    /// Kept by Holdfast.
    Never,
}

/// One built-in field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub writable: Writable,
}

const fn field(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        writable: Writable::Always,
    }
}

const fn on_create(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        writable: Writable::OnCreate,
    }
}

const fn kept(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        writable: Writable::Never,
    }
}

pub const LIFECYCLE_STAGES: &[&str] = &["lead", "qualified", "customer", "other"];
pub const COMPANY_SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+"];
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];
pub const ACTIVITY_KINDS: &[&str] = &["task", "call", "meeting", "email", "note"];

use FieldType::{
    Choice, Company, Count, Currency, Date, Domain, Emails, LongText, Money, Name, Percent, Phone,
    Phones, Pipeline, Stage, Text, Time, Url, User,
};

pub const CONTACT: &[Field] = &[
    field("first_name", Name),
    field("last_name", Name),
    field("emails", Emails),
    field("phones", Phones),
    field("title", Text),
    field("company_id", Company),
    field("owner_id", User),
    field("lifecycle_stage", Choice(LIFECYCLE_STAGES)),
    field("source", Text),
];

pub const COMPANY: &[Field] = &[
    field("name", Name),
    field("domain", Domain),
    field("industry", Text),
    field("size", Choice(COMPANY_SIZES)),
    field("phone", Phone),
    field("address", LongText),
    field("website", Url),
    field("owner_id", User),
    field("lifecycle_stage", Choice(LIFECYCLE_STAGES)),
];

pub const DEAL: &[Field] = &[
    field("title", Name),
    field("amount", Money),
    field("currency", Currency),
    on_create("pipeline_id", Pipeline),
    on_create("stage_id", Stage),
    kept("status", Choice(DEAL_STATUSES)),
    field("lost_reason", Text),
    field("expected_close", Date),
    field("probability", Percent),
    field("owner_id", User),
    field("company_id", Company),
    kept("stage_entered_at", Time),
    kept("closed_at", Time),
];

pub const ACTIVITY: &[Field] = &[
    on_create("kind", Choice(ACTIVITY_KINDS)),
    field("subject", Name),
    field("body", LongText),
    field("due_at", Time),
    field("starts_at", Time),
    field("ends_at", Time),
    field("done_at", Time),
    field("assignee_id", User),
];

/// Fields every record has, kept by Holdfast.
pub const SYSTEM: &[Field] = &[
    kept("version", Count),
    kept("created_at", Time),
    kept("created_by", Text),
    kept("updated_at", Time),
    kept("updated_by", Text),
];

/// Names a custom field may not take: built-in and system names, and the record's
/// other members.
pub fn reserved(name: &str) -> bool {
    const OTHERS: &[&str] = &[
        "id",
        "seq",
        "custom",
        "tags",
        "contact_ids",
        "links",
        "deleted_at",
        "deleted_by",
    ];
    OTHERS.contains(&name)
        || SYSTEM.iter().any(|f| f.name == name)
        || [CONTACT, COMPANY, DEAL, ACTIVITY]
            .iter()
            .any(|fields| fields.iter().any(|f| f.name == name))
}
