use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::GlobalArgs;
use crate::config::{self, describe_file};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration and where each value came from (secrets redacted)
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Print JSON instead of TOML-style text
    #[arg(long)]
    json: bool,
}

pub fn run(global: &GlobalArgs, command: &ConfigCommand) -> anyhow::Result<()> {
    let ConfigCommand::Show(args) = command;
    let loaded = global.load_config(None)?;
    let shown = config::show(&loaded);
    if args.json {
        let settings: Map<String, Value> = shown
            .iter()
            .map(|s| {
                let entry = json!({ "value": s.value, "source": s.source });
                (s.key.to_owned(), entry)
            })
            .collect();
        let file = loaded.file.as_ref().map(|p| p.display().to_string());
        super::print_json(&json!({ "config_file": file, "settings": settings }))?;
    } else {
        say!("# config file: {}", describe_file(loaded.file.as_deref()));
        for line in config::render_text(&shown).lines() {
            say!("{line}");
        }
    }
    Ok(())
}
