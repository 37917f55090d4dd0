//! `GET /api/v1/openapi.json`: the API described from the route table, so the document lists
//! every route and the error codes each can answer, and cannot fall behind.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::endpoint::{Access, Area, Endpoint, endpoints};
use crate::error::ErrorCode;

endpoints! { area: Area::Root;
    GET "/api/v1/openapi.json" => document, Access::Public, 200, "This document", [];
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(describe(&super::api_endpoints()))
}

fn operation(endpoint: &Endpoint, schemas: &mut schemars::SchemaGenerator) -> Value {
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for code in endpoint.errors() {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(code.as_str());
    }
    let mut responses = serde_json::Map::new();
    let mut success = json!({ "description": "Success" });
    if let Some(schema_of) = endpoint.response {
        success["content"] = json!({ "application/json": { "schema": schema_of(schemas) } });
    }
    responses.insert(endpoint.success.to_string(), success);
    for (status, codes) in by_status {
        responses.insert(
            status.to_string(),
            json!({
                "description": format!("Error codes: {}", codes.join(", ")),
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                "x-error-codes": codes,
            }),
        );
    }
    let security = match endpoint.access {
        Access::Public | Access::TenantPublic => json!([]),
        Access::Operator => json!([{ "operatorSession": [] }]),
        Access::Tenant(_) => json!([{ "userSession": [] }, { "apiToken": [] }]),
    };
    let mut op = json!({
        "summary": endpoint.summary,
        "security": security,
        "responses": responses,
    });
    if let Access::Tenant(role) = endpoint.access {
        op["x-minimum-role"] = json!(role.as_str());
    }
    if let Some(schema_of) = endpoint.request {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schema_of(schemas) } },
        });
    }
    let params: Vec<Value> = endpoint
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !params.is_empty() {
        op["parameters"] = json!(params);
    }
    if endpoint.area == Area::Tenant {
        op["servers"] = json!([
            { "url": "/", "description": "on the tenant's host: <slug>.<base_domain> or its custom domain" },
            { "url": "/t/{tenant}", "variables": { "tenant": { "default": "acme" } },
              "description": "by path prefix" },
        ]);
    }
    op
}

/// The OpenAPI 3.1 document for `endpoints`.
pub fn describe(endpoints: &[Endpoint]) -> Value {
    let mut paths: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    // JSON Schema 2020-12, as OpenAPI 3.1 takes it, with named types under components.
    let mut schemas = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    for endpoint in endpoints {
        paths.entry(endpoint.full_path()).or_default().insert(
            endpoint.method.to_ascii_lowercase(),
            operation(endpoint, &mut schemas),
        );
    }
    let mut components = schemas.take_definitions(true);
    components.insert(
        "Error".to_owned(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string", "enum": ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() },
                    "message": { "type": "string" },
                },
            } },
        }),
    );
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| json!({ "code": c.as_str(), "status": c.status().as_u16(), "message": c.default_message() }))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Holdfast API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Operator API under /api/v1/admin; tenant API under /api/v1 on a tenant's host or under /t/{tenant}/api/v1. Cookie-authenticated writes need the session's X-CSRF-Token. Every error is {\"error\": {\"code\", \"message\"}} with a stable code.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "operatorSession": { "type": "apiKey", "in": "cookie", "name": super::auth::ADMIN_COOKIE },
                "userSession": { "type": "apiKey", "in": "cookie", "name": super::auth::TENANT_COOKIE },
                "apiToken": { "type": "http", "scheme": "bearer" },
            },
        },
        "x-error-codes": codes,
    })
}
