//! Holdfast's integration tests: one binary, each module a chapter of the product's story.
//! Every test starts the real application (in-process on port 0, or the real binary) on a
//! fresh temporary data directory.

// Test helpers panic on failure by design: a panic is a failed test with its message.
#![allow(clippy::unwrap_used)]

mod helpers;
mod pages;

mod account_pages;
mod activities_in_browser;
mod activity_pages;
mod app_in_browser;
mod app_pages;
mod assets;
mod audit;
mod backup;
mod board_pages;
mod brand_pages;
mod browser;
mod caching;
mod changes;
mod cli;
mod config;
mod console_in_browser;
mod console_manage_pages;
mod console_pages;
mod crm_answers;
mod crm_bulk;
mod crm_erase;
mod crm_export;
mod crm_files;
mod crm_import;
mod crm_lists;
mod crm_merge;
mod crm_pipelines;
mod crm_records;
mod crm_reports;
mod crm_saved;
mod crm_visibility;
mod customer_path_in_browser;
mod errors;
mod forwarded;
mod health;
mod hosts;
mod http_layer;
mod import_pages;
mod isolation;
mod license_interop;
mod license_renewals;
mod license_signer;
mod licensing;
mod list_pages;
mod lists_in_browser;
mod mail;
mod metrics;
mod migrations;
mod passwords;
mod read_only;
mod record_link_pages;
mod record_pages_in_browser;
mod refusals;
mod roles_in_browser;
mod settings_crm_in_browser;
mod settings_crm_pages;
mod settings_in_browser;
mod settings_pages;
mod setup;
mod setup_pages;
mod shutdown;
mod sign_in;
mod support;
mod tenant_admin;
mod tenant_archive;
mod tenants;
mod throttling;
mod tls;
mod trash_pages;
mod update;
mod users;
mod zone_pages;
