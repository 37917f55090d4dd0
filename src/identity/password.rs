//! Passwords: Argon2id with a random salt per password, stored as a PHC string.
//!
//! All Argon2 work runs on a few dedicated threads, each reusing one block of working memory
//! (about 19 MiB). Allocating and freeing that much per sign-in makes the C allocator raise
//! its threshold for handing memory back, and then every freed block stays in the process: a
//! burst of sign-ins left hundreds of MiB behind. A few threads also bound the CPU a flood of
//! sign-in attempts can take.

use std::cell::RefCell;
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
    #[error("the password could not be hashed")]
    Hashing,
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
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
        return Err(PasswordError::Length);
    }
    let password = password.to_owned();
    on_worker(move || hash_now(&password)).unwrap_or(Err(PasswordError::Hashing))
}

/// Does `password` match the stored hash? A malformed stored hash matches nothing. Blocking.
pub fn verify(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    on_worker(move || verify_now(&password, &stored).unwrap_or(false)).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
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
        assert_eq!(hash("short"), Err(PasswordError::Length));
    }
}
