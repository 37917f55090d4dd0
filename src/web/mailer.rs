//! Mail from the server: letters sent from the blocking pool when SMTP is set (a failure is
//! logged and answered as not mailed, never as a failed request: the link is in the answer
//! either way), and license warnings to every active operator — 30, 7 and 1 days before
//! expiry, in grace and once read-only — each once per license, looked for at start and
//! every hour.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::AppState;
use crate::license::LicenseState;
use crate::mail::{self, Letter};

const EVERY: Duration = Duration::from_secs(60 * 60);

/// Mails `letter` if SMTP is set; answers whether it went.
pub async fn deliver(state: &AppState, letter: Letter) -> bool {
    let Some(smtp) = state.config.smtp.clone() else {
        return false;
    };
    let subject = letter.subject.clone();
    match tokio::task::spawn_blocking(move || mail::send(&smtp, &letter)).await {
        Ok(Ok(())) => {
            tracing::info!(subject = %subject, "mail sent");
            true
        }
        Ok(Err(err)) => {
            tracing::warn!(subject = %subject, error = %err, "mail not sent");
            false
        }
        Err(_) => false,
    }
}

/// Looks for a license warning to send, at start and hourly, while SMTP is set.
pub async fn run(state: AppState) {
    if state.config.smtp.is_none() {
        return;
    }
    let mut interval = tokio::time::interval(EVERY);
    loop {
        interval.tick().await;
        if let Err(err) = warn_operators(&state).await {
            tracing::warn!("cannot send the license warnings: {err:#}");
        }
    }
}

/// The warning the license calls for now, if any: a stable name (sent once per license) and
/// what it says.
fn warning(state: LicenseState, days_left: Option<i64>) -> Option<(&'static str, String)> {
    match (state, days_left) {
        (LicenseState::Expired, _) => Some((
            "read_only",
            "the license has expired past its grace: Holdfast is read-only".into(),
        )),
        (LicenseState::Grace, _) => Some((
            "grace",
            "the license has expired: Holdfast works during the grace days, then becomes read-only"
                .into(),
        )),
        (LicenseState::Valid, Some(days)) if days <= 1 => {
            Some(("1_day", "the license expires within a day".into()))
        }
        (LicenseState::Valid, Some(days)) if days <= 7 => {
            Some(("7_days", format!("the license expires in {days} days")))
        }
        (LicenseState::Valid, Some(days)) if days <= 30 => {
            Some(("30_days", format!("the license expires in {days} days")))
        }
        _ => None,
    }
}

/// Sends the warning due now to every active operator, unless it was sent for this license.
async fn warn_operators(state: &AppState) -> anyhow::Result<()> {
    let effective = state.license.effective();
    if effective.pending.is_some() && effective.state == LicenseState::Valid {
        return Ok(()); // Renewed already: the renewal takes over at expiry.
    }
    let Some((name, what)) = warning(effective.state, effective.days_left()) else {
        return Ok(());
    };
    let license = effective
        .license
        .as_ref()
        .map_or_else(String::new, |l| l.payload().license_id.clone());
    let key = format!("license_warning:{license}:{name}");
    let operators = state
        .control_db
        .run(move |conn| {
            if already_sent(conn, &key)? {
                return Ok(Vec::new());
            }
            conn.execute(
                "INSERT INTO appliance_meta (key, value) VALUES (?1, ?2)",
                params![key, crate::crm::now().to_string()],
            )?;
            Ok(crate::identity::operators::list(conn)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                .into_iter()
                .filter(|o| o.active)
                .map(|o| o.email)
                .collect::<Vec<_>>())
        })
        .await?;
    for email in operators {
        deliver(state, mail::license_warning(&email, &capitalised(&what))).await;
    }
    Ok(())
}

fn already_sent(conn: &Connection, key: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM appliance_meta WHERE key = ?1", [key], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_of_a_license_gets_its_own_warning() {
        let name = |state, days| warning(state, days).map(|(n, _)| n);
        assert_eq!(name(LicenseState::Valid, Some(90)), None);
        assert_eq!(name(LicenseState::Valid, None), None);
        assert_eq!(name(LicenseState::Valid, Some(30)), Some("30_days"));
        assert_eq!(name(LicenseState::Valid, Some(7)), Some("7_days"));
        assert_eq!(name(LicenseState::Valid, Some(1)), Some("1_day"));
        assert_eq!(name(LicenseState::Grace, Some(0)), Some("grace"));
        assert_eq!(name(LicenseState::Expired, None), Some("read_only"));
        assert_eq!(name(LicenseState::Unlicensed, None), None);
    }
}
