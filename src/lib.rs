//! Holdfast: a self-hosted, multi-tenant CRM appliance.
//!
//! `main.rs` only parses the command line and calls [`cli::run`]; everything else lives here so
//! that integration tests can start the real [`web::Application`] in-process.

pub mod build_info;
