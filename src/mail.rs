//! Mail through the SMTP server the settings name (`smtp_*`): invitations, password-reset
//! links and license warnings. Plain text, one recipient a letter. Without `smtp_host`
//! nothing is mailed and links are only shown, as before.
//!
//! Sending blocks (lettre's SMTP transport, with STARTTLS, implicit TLS, or neither for a
//! relay on this machine; certificates checked against the system's roots), so callers on
//! the async executor send from the blocking pool.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::config::{Smtp, SmtpSecurity};

/// How long one conversation with the server may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// One letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address {0:?} cannot be mailed")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// Sends `letter` through `smtp`. Blocking.
pub fn send(smtp: &Smtp, letter: &Letter) -> Result<(), MailError> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|_| MailError::Address(smtp.from.clone()))?;
    let to: Mailbox = letter
        .to
        .parse()
        .map_err(|_| MailError::Address(letter.to.clone()))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(&letter.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(letter.body.clone())?;
    let tls = || TlsParameters::new(smtp.host.clone());
    let mut transport = SmtpTransport::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(TIMEOUT));
    transport = match smtp.security {
        SmtpSecurity::StartTls => transport.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => transport.tls(Tls::Wrapper(tls()?)),
        SmtpSecurity::None => transport.tls(Tls::None),
    };
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    transport.build().send(&message)?;
    Ok(())
}

/// An invitation to a tenant.
pub fn invitation(to: &str, tenant: &str, role: &str, link: &str) -> Letter {
    Letter {
        to: to.to_owned(),
        subject: format!("You are invited to {tenant} on Holdfast"),
        body: format!(
            "You have been invited to {tenant} on Holdfast as {role}.\n\n\
             Choose your password here (the link works once):\n{link}\n\n\
             If you did not expect this, ignore this message.\n"
        ),
    }
}

/// A link to set a new password.
pub fn password_reset(to: &str, tenant: &str, link: &str) -> Letter {
    Letter {
        to: to.to_owned(),
        subject: format!("Set a new Holdfast password for {tenant}"),
        body: format!(
            "An administrator of {tenant} asked for a new password for you.\n\n\
             Choose it here (the link works once):\n{link}\n\n\
             If you did not expect this, tell your administrator.\n"
        ),
    }
}

/// A warning about the license, to an operator.
pub fn license_warning(to: &str, what: &str) -> Letter {
    Letter {
        to: to.to_owned(),
        subject: format!("Holdfast license: {what}"),
        body: format!(
            "{what}.\n\nInstall a renewed key in the console (/admin, License) or with \
             `holdfast license install`. `holdfast license status` shows the details.\n"
        ),
    }
}
