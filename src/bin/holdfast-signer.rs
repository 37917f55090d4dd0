//! `holdfast-signer`: the vendor's tool to make signing keys and issue and inspect license
//! keys. It is never shipped inside the appliance image.

// Doc comments here are --help text for people, not rustdoc: names stay unquoted.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use holdfast::license::{
    DEFAULT_GRACE_DAYS, FORMAT_VERSION, IssueRequest, Payload, SigningKeyFile, TrustedKey,
    TrustedKeys, VerifiedLicense, decode_unverified, issue_key,
};
use holdfast::text::{escape, escape_json};
use serde_json::json;
use time::{Date, OffsetDateTime, Time};

#[derive(Debug, Parser)]
#[command(
    name = "holdfast-signer",
    version = holdfast::build_info::LONG_VERSION,
    about = "Holdfast vendor tool: signing keys, issuing and inspecting license keys, signing releases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new vendor signing key (private key file 0600, never printed)
    Keygen {
        /// Where to write the private key (must not exist)
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key line that a build trusts (HOLDFAST_TRUSTED_KEYS file format)
    Pubkey {
        /// The private key file
        #[arg(long)]
        key: PathBuf,
    },
    /// Issue a license key
    Issue(IssueArgs),
    /// Sign a release: make the update bundle of a binary (holdfast update verifies it against
    /// the release keys built into the appliance), and add it to a release manifest
    SignRelease(SignReleaseArgs),
    /// Decode a license key, verify it and explain any problem
    Inspect {
        /// The key (quote it; whitespace inside is ignored)
        key: String,
        /// Verify against this public key file instead of the keys this build trusts
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // Flags of a command line, not state.
struct IssueArgs {
    /// The vendor's private key file
    #[arg(long)]
    key: PathBuf,
    /// Customer name as it appears in the appliance
    #[arg(long)]
    customer: String,
    /// Edition name, e.g. standard or enterprise
    #[arg(long)]
    edition: String,
    /// Maximum active users (seats) across all tenants
    #[arg(long)]
    users: u32,
    /// Maximum tenants
    #[arg(long)]
    tenants: u32,
    /// Valid for N days from now (or from --not-before)
    #[arg(long, group = "term")]
    days: Option<u32>,
    /// Expires at the start of this UTC date (YYYY-MM-DD)
    #[arg(long, group = "term")]
    expires: Option<String>,
    /// Never expires
    #[arg(long, group = "term")]
    perpetual: bool,
    /// Not valid before the start of this UTC date (YYYY-MM-DD): a renewal issued ahead
    #[arg(long)]
    not_before: Option<String>,
    /// Days of grace after expiry before the appliance turns read-only
    #[arg(long, default_value_t = DEFAULT_GRACE_DAYS)]
    grace_days: u16,
    /// Comma-separated features: sso, branding, api_tokens, audit_export
    #[arg(long, value_delimiter = ',')]
    features: Vec<String>,
    /// Bind the key to one appliance (its `holdfast license instance-id`)
    #[arg(long)]
    instance: Option<String>,
    /// License id; renewals keep the id of the license they renew (default: a new one)
    #[arg(long)]
    license_id: Option<String>,
    /// Print JSON with the key and its decoded payload
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SignReleaseArgs {
    /// The vendor's release private key (not the license key)
    #[arg(long)]
    key: PathBuf,
    /// The holdfast binary to ship
    #[arg(long)]
    binary: PathBuf,
    /// Its version (semantic, e.g. 1.4.0): what sites compare with their own
    #[arg(long = "release-version", value_name = "VERSION")]
    version: String,
    /// The target triple it was built for [default: this machine's]
    #[arg(long)]
    target: Option<String>,
    /// Directory the bundle is written to
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// A release manifest (manifest.json) to add the bundle to, created if missing; publish it
    /// beside the bundle
    #[arg(long)]
    manifest: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let line = format!("{err:#}");
            eprintln!(
                "error: {}",
                escape(&line.split_whitespace().collect::<Vec<_>>().join(" "))
            );
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keygen { out } => {
            let key = SigningKeyFile::generate();
            key.write_new(&out)?;
            println!(
                "wrote private key {} (mode 0600; keep it secret)",
                out.display()
            );
            println!("key id: {}", key.key_id());
            println!("{}", key.public().line());
        }
        Command::Pubkey { key } => println!("{}", SigningKeyFile::read(&key)?.public().line()),
        Command::Issue(args) => issue(&args)?,
        Command::SignRelease(args) => sign_release(&args)?,
        Command::Inspect { key, pubkey, json } => inspect(&key, pubkey.as_deref(), json)?,
    }
    Ok(())
}

fn sign_release(args: &SignReleaseArgs) -> anyhow::Result<()> {
    let signer = SigningKeyFile::read(&args.key)?;
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| holdfast::update::this_target().to_owned());
    let (bundle, info) = holdfast::update::write_signed(
        &args.binary,
        &args.version,
        &target,
        signer.signing_key(),
        &args.out,
    )?;
    println!(
        "{}: Holdfast {} for {}, signed with release key {}",
        escape(&bundle.display().to_string()),
        escape(&info.version),
        escape(&info.target),
        signer.key_id()
    );
    if let Some(manifest) = &args.manifest {
        holdfast::update::add_to_manifest(manifest, &info, &bundle)?;
        println!("added to {}", escape(&manifest.display().to_string()));
    }
    Ok(())
}

fn parse_date(flag: &str, text: &str) -> anyhow::Result<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text, &format)
        .with_context(|| format!("{flag} {text:?} is not a date as YYYY-MM-DD"))?;
    Ok(date.with_time(Time::MIDNIGHT).assume_utc())
}

fn new_license_id() -> String {
    // 12 random bytes as 24 hex digits: unique without making the key long.
    let bytes: [u8; 12] = rand::random();
    holdfast::license::hex(&bytes)
}

fn issue(args: &IssueArgs) -> anyhow::Result<()> {
    let signer = SigningKeyFile::read(&args.key)?;
    let now = OffsetDateTime::now_utc();
    let not_before = args
        .not_before
        .as_deref()
        .map(|d| parse_date("--not-before", d))
        .transpose()?;
    let start = not_before.unwrap_or(now);
    let expires_at = match (&args.days, &args.expires, args.perpetual) {
        (Some(days), None, false) => Some(start + time::Duration::days(i64::from(*days))),
        (None, Some(date), false) => Some(parse_date("--expires", date)?),
        (None, None, true) => None,
        _ => bail!("give exactly one of --days N, --expires DATE or --perpetual"),
    };
    for feature in &args.features {
        if holdfast::license::Feature::parse(feature).is_none() {
            bail!("unknown feature {feature:?}: known are sso, branding, api_tokens, audit_export");
        }
    }
    let payload = Payload {
        format: FORMAT_VERSION,
        license_id: args.license_id.clone().unwrap_or_else(new_license_id),
        customer: args.customer.clone(),
        edition: args.edition.clone(),
        issued_at: now.unix_timestamp(),
        not_before: not_before.map(OffsetDateTime::unix_timestamp),
        expires_at: expires_at.map(OffsetDateTime::unix_timestamp),
        grace_days: args.grace_days,
        max_seats: args.users,
        max_tenants: args.tenants,
        features: args.features.clone(),
        instance: args.instance.clone(),
    };
    let license = issue_key(&signer, &IssueRequest { payload })?;
    if args.json {
        let out = json!({ "key": license.text(), "length": license.text().len(), "payload": license.payload() });
        println!("{}", escape_json(&serde_json::to_string_pretty(&out)?));
    } else {
        println!("{}", license.text());
    }
    Ok(())
}

fn inspect(key: &str, pubkey: Option<&std::path::Path>, json: bool) -> anyhow::Result<()> {
    let trusted = match pubkey {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let keys: Vec<TrustedKey> = text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(|l| {
                    TrustedKey::parse_line(l).with_context(|| {
                        format!("{}: not a public key line: {l:?}", path.display())
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            TrustedKeys::only(keys)
        }
        None => TrustedKeys::builtin(),
    };
    match VerifiedLicense::verify(key, &trusted) {
        Ok(license) => {
            if json {
                let out = json!({ "valid_signature": true, "key_id": license.key_id().as_str(), "payload": license.payload() });
                println!("{}", escape_json(&serde_json::to_string_pretty(&out)?));
            } else {
                println!("signature: good (vendor key {})", license.key_id());
                print_lines(&describe(license.payload()));
            }
            Ok(())
        }
        Err(err) => {
            // Show what the key claims, clearly marked as unverified, then refuse.
            if let Ok((key_id, payload)) = decode_unverified(key) {
                if json {
                    let out = json!({ "valid_signature": false, "key_id": key_id.as_str(), "unverified_payload": payload, "error": err.one_line() });
                    println!("{}", escape_json(&serde_json::to_string_pretty(&out)?));
                } else {
                    println!("UNVERIFIED claims (vendor key {key_id}):");
                    print_lines(&describe(&payload));
                }
            }
            bail!("{}", err.one_line())
        }
    }
}

/// Prints text for people line by line, escaped: an unverified key's claims are anyone's words,
/// and must not send escape sequences to the vendor's terminal or forge a line.
fn print_lines(text: &str) {
    for line in text.lines() {
        println!("{}", escape(line));
    }
}

fn describe(payload: &Payload) -> String {
    let date =
        |t: Option<OffsetDateTime>| t.map_or_else(|| "-".to_owned(), |t| t.date().to_string());
    format!(
        "  license id:  {}\n  customer:    {}\n  edition:     {}\n  users:       {}\n  tenants:     {}\n  features:    {}\n  issued:      {}\n  not before:  {}\n  expires:     {}\n  grace days:  {}\n  instance:    {}\n",
        payload.license_id,
        payload.customer,
        payload.edition,
        payload.max_seats,
        payload.max_tenants,
        if payload.features.is_empty() {
            "-".to_owned()
        } else {
            payload.features.join(", ")
        },
        date(Some(payload.issued_at())),
        date(payload.not_before()),
        payload
            .expires_at()
            .map_or_else(|| "never (perpetual)".to_owned(), |t| t.date().to_string()),
        payload.grace_days,
        payload.instance.as_deref().unwrap_or("any"),
    )
}
