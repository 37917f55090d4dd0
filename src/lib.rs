//! Holdfast: a self-hosted, multi-tenant CRM appliance.
//!
//! `main.rs` only parses the command line and calls [`cli::main`]; everything else lives here
//! so that integration tests can start the real [`web::Application`] in-process.

pub mod appliance;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod build_info;
pub mod cli;
pub mod config;
pub mod crm;
pub mod error;
pub mod fsutil;
pub mod identity;
pub mod license;
pub mod mail;
pub mod provision;
pub mod storage;
pub mod support;
pub mod telemetry;
pub mod tenancy;
pub mod text;
pub mod update;
pub mod web;
pub mod zone;
