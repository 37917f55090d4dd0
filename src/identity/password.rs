//! Passwords: Argon2id with a random salt per password, stored as a PHC string.
//!
//! A new password is a [`NewPassword`], which only the policy makes (NIST SP 800-63B: a
//! length, no composition rules, and no password that is common, repetitive or sequential,
//! or made of the account's e-mail address or the product's name); [`hash`] takes nothing
//! else, so no path can store a password that skipped it.
//!
//! All Argon2 work runs on a few dedicated threads, each reusing one block of working memory
//! (about 19 MiB). Allocating and freeing that much per sign-in makes the C allocator raise
//! its threshold for handing memory back, and then every freed block stays in the process: a
//! burst of sign-ins left hundreds of MiB behind. A few threads also bound the CPU a flood of
//! sign-in attempts can take.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Shortest and longest passwords accepted. The upper bound keeps hashing cost bounded.
pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters")]
    Length,
    #[error("the password is one of the most common passwords; choose another")]
    Common,
    #[error(
        "the password is a repeated or sequential pattern (like aaaaaaaaaa or 1234567890); choose another"
    )]
    Predictable,
    #[error("the password is made of your e-mail address or the product's name; choose another")]
    Personal,
    #[error("the password could not be hashed")]
    Hashing,
}

impl PasswordError {
    /// The stable error code, as in the API's error table.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordError::Hashing => "internal",
            _ => "invalid_password",
        }
    }
}

/// The common passwords that the length rule lets through: the 1,780 entries of 10 or more
/// characters of Django's list of 20,000 common passwords (lower-cased; made by Royce
/// Williams from breach corpora), shipped by Django under the BSD 3-clause licence
/// (`common-passwords.LICENSE` beside it). Shorter entries are refused by length anyway.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// The product's name: a password made of it is guessed first.
const PRODUCT_NAME: &str = "holdfast";

/// A new password that passed the policy for its account; what [`hash`] takes.
pub struct NewPassword(String);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    /// Checks `text` as the new password of the account with address `email`: 10 to 1024
    /// characters, any characters, and not guessable (see [`PasswordError`]). Common
    /// passwords are matched case-insensitively.
    pub fn new(text: &str, email: &str) -> Result<Self, PasswordError> {
        let length = text.chars().count();
        if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
            return Err(PasswordError::Length);
        }
        let lower = text.to_lowercase();
        if COMMON.contains(lower.as_str()) {
            return Err(PasswordError::Common);
        }
        if is_predictable(&lower.chars().collect::<Vec<_>>()) {
            return Err(PasswordError::Predictable);
        }
        if is_personal(&lower, &email.to_lowercase()) {
            return Err(PasswordError::Personal);
        }
        Ok(Self(text.to_owned()))
    }
}

/// A piece repeated (`aaaaaaaaaa`, `abcabcabca`, `hunter2hunter2`), or a run where each
/// character repeats the one before or steps one along the alphabet or the digits, with at
/// most one break (`1234567890`, `abcdefghij`, `zyxwvu4321`, `aaaaabbbbb`).
fn is_predictable(chars: &[char]) -> bool {
    let n = chars.len();
    let periodic = (1..=n / 2).any(|p| (p..n).all(|i| chars[i] == chars[i - p]));
    let breaks = chars
        .windows(2)
        .filter(|pair| !is_predictable_step(pair[0], pair[1]))
        .count();
    periodic || breaks <= 1
}

fn is_predictable_step(a: char, b: char) -> bool {
    let step = |from: char, to: char| match (from, to) {
        ('9', '0') => true, // The digit row: 0 follows 9.
        (from, to) if from.is_ascii_alphanumeric() && to.is_ascii_alphanumeric() => {
            from.is_ascii_digit() == to.is_ascii_digit() && u32::from(from) + 1 == u32::from(to)
        }
        _ => false,
    };
    a == b || step(a, b) || step(b, a)
}

/// Made of the e-mail address and the product's name: the password's letters and digits
/// (lower-case; anything else ignored) are nothing but pieces of the address — its local
/// part and domain labels, split at punctuation — and "holdfast", each as often and in any
/// order, with digits anywhere, and at least one such piece. For `ada.lovelace@acme.test`
/// that refuses `Ada@Acme.test`, `lovelace-ada-1815` and `holdfast2025!`; a password with any
/// other word passes.
fn is_personal(lower: &str, email: &str) -> bool {
    let text: Vec<char> = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let pieces: Vec<Vec<char>> = email
        .split(|c: char| !c.is_alphanumeric())
        .chain([PRODUCT_NAME])
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.chars().collect())
        .collect();
    // reach[i]: 0 = text[..i] cannot be made so; 1 = only from digits; 2 = with a piece.
    let mut reach = vec![0u8; text.len() + 1];
    reach[0] = 1;
    for i in 0..text.len() {
        if reach[i] == 0 {
            continue;
        }
        if text[i].is_ascii_digit() {
            reach[i + 1] = reach[i + 1].max(reach[i]);
        }
        for piece in &pieces {
            if text[i..].starts_with(piece) {
                reach[i + piece.len()] = 2;
            }
        }
    }
    reach[text.len()] == 2
}

type Job = Box<dyn FnOnce() + Send>;

/// How many threads do Argon2 work.
fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

static WORKERS: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..worker_count() {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("holdfast-argon2-{index}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // The sender is gone: the process is ending.
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!("cannot start a password hashing thread: {err}");
        }
    }
    Mutex::new(sender)
});

/// Runs `work` on a password thread and waits for it; `None` if it could not run.
fn on_worker<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (reply, answer) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    WORKERS.lock().ok()?.send(job).ok()?;
    answer.recv().ok()
}

thread_local! {
    /// This thread's Argon2 working memory, kept for the next hash.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Computes an Argon2 hash into `out` with this thread's reused working memory.
fn compute(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let blocks = argon.params().block_count();
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .is_ok()
    })
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let argon = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|_| PasswordError::Hashing)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !compute(&argon, password.as_bytes(), salt_bytes, &mut out) {
        return Err(PasswordError::Hashing);
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|_| PasswordError::Hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hashing)?),
    };
    Ok(phc.to_string())
}

fn verify_now(password: &str, stored: &str) -> Option<bool> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = parsed.salt?.decode_b64(&mut salt_bytes).ok()?;
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if !compute(&argon, password.as_bytes(), salt_bytes, &mut out) {
        return None;
    }
    // `Output` compares in constant time.
    Some(Output::new(&out).ok()? == expected)
}

/// Hashes `password` with Argon2id (the crate's recommended parameters). Blocking.
pub fn hash(password: &NewPassword) -> Result<String, PasswordError> {
    let password = password.0.clone();
    on_worker(move || hash_now(&password)).unwrap_or(Err(PasswordError::Hashing))
}

/// A hash of a random password, to verify against when an account does not exist, so that
/// an unknown e-mail address costs the same Argon2 work as a wrong password. Blocking once.
pub fn decoy_hash() -> &'static str {
    static DECOY: LazyLock<String> = LazyLock::new(|| {
        let random = super::secret::Secret::generate().text;
        on_worker(move || hash_now(&random))
            .and_then(Result::ok)
            .unwrap_or_default()
    });
    &DECOY
}

/// Does `password` match the stored hash? A malformed stored hash matches nothing. Blocking.
pub fn verify(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    on_worker(move || verify_now(&password, &stored).unwrap_or(false)).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: &str = "ada.lovelace@acme.test";

    fn new(text: &str) -> NewPassword {
        NewPassword::new(text, ADA).unwrap()
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash(&new("correct horse battery")).unwrap();
        let b = hash(&new("correct horse battery")).unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong horse battery", &a));
        assert!(!verify("anything", "not a hash"));
        // A hash made elsewhere with the standard API verifies too.
        let standard = {
            use argon2::password_hash::PasswordHasher as _;
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(b"correct horse battery", &salt)
                .unwrap()
                .to_string()
        };
        assert!(verify("correct horse battery", &standard));
        assert!(!verify("correct horse batterY", &standard));
        assert!(!verify("anything", decoy_hash()));
        assert!(decoy_hash().starts_with("$argon2id$"));
    }

    #[test]
    fn the_policy_refuses_guessable_passwords_and_says_why() {
        let refused = [
            ("short", PasswordError::Length),
            (&"x".repeat(1025), PasswordError::Length),
            ("1234567890", PasswordError::Common),
            ("Password123", PasswordError::Common),
            ("QWERTYUIOP", PasswordError::Common),
            ("bbbbbbbbbbbb", PasswordError::Predictable),
            ("abcabcabcabc", PasswordError::Predictable),
            ("hunter2hunter2", PasswordError::Predictable),
            ("bcdefghijklm", PasswordError::Predictable),
            ("zyxwvutsrq", PasswordError::Predictable),
            ("5678901234", PasswordError::Predictable),
            ("aaaaabbbbbb", PasswordError::Predictable),
            ("Ada@Acme.test", PasswordError::Personal),
            ("lovelace-ada-1815", PasswordError::Personal),
            ("acme.test.2025!", PasswordError::Personal),
            ("Holdfast2025!", PasswordError::Personal),
            ("holdfast-acme", PasswordError::Personal),
        ];
        for (text, why) in refused {
            assert_eq!(NewPassword::new(text, ADA).err(), Some(why), "{text}");
        }
        for fine in [
            "correct horse battery",
            "ada loves the analytical engine",
            "Acme test pilot 7",
            "0123456789x! blue",
            "héllo wörld ünïcode",
            "ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓ",
            &(0..250)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ] {
            assert!(NewPassword::new(fine, ADA).is_ok(), "{fine}");
        }
        // Only what the account's address holds is personal.
        assert!(NewPassword::new("lovelace-ada-1815", "grace@navy.test").is_ok());
        assert!(NewPassword::new("8264019375", ADA).is_ok(), "digits alone");
    }

    #[test]
    fn the_common_list_is_lower_case_and_long_enough_to_matter() {
        assert_eq!(COMMON.len(), 1780);
        assert!(
            COMMON
                .iter()
                .all(|p| p.chars().count() >= MIN_PASSWORD_LEN && *p == p.to_lowercase())
        );
    }
}
