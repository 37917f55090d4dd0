use anyhow::Context;
use clap::Subcommand;

use super::GlobalArgs;
use crate::identity::operators::{self, OperatorError};
use crate::identity::password::NewPassword;
use crate::identity::{Email, setup};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an operator of the /admin console (the first one closes the one-time setup)
    Create {
        /// The operator's e-mail address (their sign-in name)
        #[arg(long)]
        email: String,
        /// Read the password from standard input
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the operators
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

fn refusal(err: OperatorError) -> anyhow::Error {
    match err {
        OperatorError::Storage(_) => anyhow::Error::new(err),
        other => anyhow::anyhow!("{}: {other}", other.code()),
    }
}

pub fn run(global: &GlobalArgs, command: &AdminCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let db = super::open_control_db(&config)?;
    let result = execute(&db, command);
    match command {
        AdminCommand::Create { email, .. } => super::audited(
            &super::AuditLog::Control(&db),
            "admin create",
            format!("operator {}", email.trim()),
            result,
        ),
        AdminCommand::List { .. } => result,
    }
}

fn execute(db: &crate::storage::Database, command: &AdminCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match command {
        AdminCommand::Create { email, .. } => {
            let email: Email = email
                .parse()
                .map_err(|e| anyhow::anyhow!("invalid e-mail {email:?}: {e}"))?;
            let password = super::read_secret_line().context("cannot read the password")?;
            let password = NewPassword::new(&password, email.as_str())
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let operator = operators::create(&mut conn, &email, &password).map_err(refusal)?;
            setup::close(&conn)?;
            say!("created operator {}", operator.email);
        }
        AdminCommand::List { json } => {
            let all = operators::list(&conn).map_err(refusal)?;
            if *json {
                super::print_json(&all)?;
            } else {
                for op in &all {
                    let status = if op.active { "active" } else { "deactivated" };
                    say!("{}  {status}  id {}", op.email, op.id);
                }
            }
        }
    }
    Ok(())
}
