//! JSON Schemas of record bodies, made from the same field descriptions that check them, and
//! the answers' envelopes. The OpenAPI document takes them from the route table.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::records::RecordKind;
use crate::crm::fields::{self, Field, FieldType, Writable};
use crate::crm::{Kind, board, pipelines, timeline};

fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "Contact",
        Kind::Company => "Company",
        Kind::Deal => "Deal",
        Kind::Activity => "Activity",
    }
}

const ID_PATTERN: &str = "^[0-9a-f]{32}$";

/// The schema of one value of a field of type `ty`.
fn value_schema(ty: FieldType) -> Value {
    let nullable = |schema: Value| json!({ "anyOf": [schema, { "type": "null" }] });
    match ty {
        FieldType::Name => json!({ "type": "string", "maxLength": 500 }),
        FieldType::Text | FieldType::Phone | FieldType::Domain => {
            nullable(json!({ "type": "string", "maxLength": 500 }))
        }
        FieldType::LongText => nullable(json!({ "type": "string", "maxLength": 100_000 })),
        FieldType::Emails => {
            json!({ "type": "array", "maxItems": 20, "items": { "type": "string", "format": "email" } })
        }
        FieldType::Phones => {
            json!({ "type": "array", "maxItems": 20, "items": { "type": "string" } })
        }
        FieldType::Url => nullable(
            json!({ "type": "string", "format": "uri", "pattern": "^[hH][tT][tT][pP][sS]?://" }),
        ),
        FieldType::Date => nullable(json!({ "type": "string", "format": "date" })),
        FieldType::Time => nullable(json!({ "type": "string", "format": "date-time" })),
        FieldType::Percent => nullable(json!({ "type": "integer", "minimum": 0, "maximum": 100 })),
        FieldType::Money => nullable(
            json!({ "type": "integer", "minimum": -crate::crm::values::MAX_AMOUNT, "maximum": crate::crm::values::MAX_AMOUNT }),
        ),
        FieldType::Count => json!({ "type": "integer", "minimum": 1 }),
        FieldType::Currency => json!({ "type": "string", "pattern": "^[A-Z]{3}$" }),
        FieldType::Choice(choices) => json!({ "type": "string", "enum": choices }),
        FieldType::User | FieldType::Company => {
            nullable(json!({ "type": "string", "pattern": ID_PATTERN }))
        }
        FieldType::Pipeline | FieldType::Stage => {
            json!({ "type": "string", "pattern": ID_PATTERN })
        }
    }
}

fn extra_members(kind: Kind, properties: &mut Map<String, Value>) {
    properties.insert(
        "custom".into(),
        json!({ "type": "object", "description": "Values of the custom fields of this kind, by key (GET /fields)" }),
    );
    if kind.tagged() {
        properties.insert("tags".into(), json!({ "type": "array", "maxItems": 50, "items": { "type": "string", "minLength": 1, "maxLength": 50 } }));
    }
    match kind {
        Kind::Deal => {
            properties.insert("contact_ids".into(), json!({ "type": "array", "maxItems": 100, "items": { "type": "string", "pattern": ID_PATTERN } }));
        }
        Kind::Activity => {
            properties.insert("links".into(), json!({
                "type": "array", "maxItems": 100,
                "items": { "type": "object", "additionalProperties": false, "required": ["kind", "id"],
                           "properties": { "kind": { "enum": ["contact", "company", "deal"] }, "id": { "type": "string", "pattern": ID_PATTERN } } },
            }));
        }
        _ => {}
    }
}

/// A record of kind `K` as clients read it.
pub struct RecordOf<K>(PhantomData<K>);

impl<K: RecordKind> JsonSchema for RecordOf<K> {
    fn schema_name() -> Cow<'static, str> {
        type_name(K::KIND).into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        properties.insert(
            "id".into(),
            json!({ "type": "string", "pattern": ID_PATTERN }),
        );
        for field in K::KIND.fields().iter().chain(fields::SYSTEM) {
            properties.insert(field.name.into(), value_schema(field.ty));
        }
        extra_members(K::KIND, &mut properties);
        properties.insert(
            "deleted_at".into(),
            json!({ "type": "string", "format": "date-time" }),
        );
        let required: Vec<&str> = ["id", "custom", "version"]
            .into_iter()
            .chain(K::KIND.fields().iter().map(|f| f.name))
            .collect();
        json_schema!({ "type": "object", "properties": properties, "required": required })
    }
}

/// What a client sends to create (or, every member optional, change) a record of kind `K`.
pub struct InputOf<K>(PhantomData<K>);

impl<K: RecordKind> JsonSchema for InputOf<K> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Input", type_name(K::KIND)).into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        let writable = |f: &&Field| f.writable != Writable::Never;
        for field in K::KIND.fields().iter().filter(writable) {
            let mut schema = value_schema(field.ty);
            if field.writable == Writable::OnCreate {
                schema["description"] = json!("Given on creation only");
            }
            properties.insert(field.name.into(), schema);
        }
        extra_members(K::KIND, &mut properties);
        json_schema!({ "type": "object", "properties": properties, "additionalProperties": false })
    }
}

/// Declares answer envelopes: `Name { member: Type }`, serialised by the handlers and
/// described by the same type.
macro_rules! envelopes {
    ($( $(#[$doc:meta])* $name:ident { $member:ident : $t:ty } )+) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Serialize, JsonSchema)]
            pub struct $name { pub $member: $t }
        )+
    };
}

envelopes! {
    /// One pipeline.
    PipelineAnswer { pipeline: pipelines::Pipeline }
    /// Every pipeline.
    PipelinesAnswer { pipelines: Vec<pipelines::Pipeline> }
    /// One stage.
    StageAnswer { stage: pipelines::Stage }
    /// Custom field definitions.
    FieldsAnswer { fields: Vec<crate::crm::custom::FieldDef> }
    /// One custom field definition.
    FieldAnswer { field: crate::crm::custom::FieldDef }
    /// Every tag.
    TagsAnswer { tags: Vec<crate::crm::tags::Tag> }
    /// Every team.
    TeamsAnswer { teams: Vec<crate::crm::teams::Team> }
    /// One team.
    TeamAnswer { team: crate::crm::teams::Team }
    /// Who sees each kind of record.
    VisibilityAnswer { visibility: crate::crm::teams::Rules }
    /// The tenant's CRM settings.
    SettingsAnswer { settings: crate::crm::settings::Settings }
    /// Saved views.
    ViewsAnswer { views: Vec<crate::crm::views::View> }
    /// One saved view.
    ViewAnswer { view: crate::crm::views::View }
    /// What the trash holds that the caller may restore.
    TrashAnswer { records: Vec<crate::crm::trash::Trashed> }
    /// How many records emptying the trash purged.
    PurgedAnswer { purged: usize }
    /// A record's attachments.
    AttachmentsAnswer { attachments: Vec<crate::crm::attachments::Attachment> }
    /// One attachment.
    AttachmentAnswer { attachment: crate::crm::attachments::Attachment }
    /// The exchange rates, by currency.
    RatesAnswer { rates: std::collections::BTreeMap<String, String> }
}

/// A page of a record's timeline, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TimelineAnswer {
    pub entries: Vec<timeline::Entry>,
    /// Pass as `before` for older entries; null when there are none.
    pub next_before: Option<i64>,
}

/// One record of kind `K`, under its kind's name.
pub struct AnswerOf<K>(PhantomData<K>);

impl<K: RecordKind> JsonSchema for AnswerOf<K> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Answer", type_name(K::KIND)).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let record = generator.subschema_for::<RecordOf<K>>();
        json_schema!({ "type": "object", "required": [K::KIND.as_str()], "properties": { K::KIND.as_str(): record } })
    }
}

/// A page of records of kind `K`.
pub struct PageOf<K>(PhantomData<K>);

impl<K: RecordKind> JsonSchema for PageOf<K> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Page", type_name(K::KIND)).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let record = generator.subschema_for::<RecordOf<K>>();
        json_schema!({
            "type": "object", "required": ["records", "next_cursor"],
            "properties": {
                "records": { "type": "array", "items": record },
                "next_cursor": { "type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last" },
            },
        })
    }
}

/// A board: its stages' columns and totals per currency.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BoardAnswer {
    pub stages: Vec<board::Column>,
    pub totals: Vec<board::Total>,
}
