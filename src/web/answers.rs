//! Answers to repeated reads, kept while the database they were read from is unchanged: a
//! team opening the same list again and again, or a UI polling it, costs one read until
//! someone writes.
//!
//! An answer is stamped with its tenant database's generation, taken *before* the read
//! began (see [`crate::storage::Generations`]); any commit since, by this process or another
//! (the CLI), moves the generation and the answer is never served again. The key holds
//! everything else that shapes an answer: the tenant, the caller (a user or a token, whose
//! visibility and `owner: me` depend on who they are), their role now, and the exact path
//! and query. What the caller may see is itself stored in the tenant database (teams, rules),
//! so it is covered by the generation; the role comes from the control database and is in
//! the key. Only answers of callers the gate has let through are stored or served.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use actix_web::HttpRequest;
use actix_web::web::Bytes;
use lru::LruCache;

use crate::storage::Database;

/// Answers kept at most, across tenants.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");
/// Larger answers are not kept, so the cache stays under 64 MiB.
pub const MAX_KEPT_BYTES: usize = 256 * 1024;

#[derive(Debug)]
struct Answer {
    generation: u64,
    body: Bytes,
}

/// The cache: one per server.
#[derive(Debug)]
pub struct AnswerCache {
    answers: Mutex<LruCache<String, Answer>>,
}

impl Default for AnswerCache {
    fn default() -> Self {
        Self {
            answers: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

/// What an answer is kept under.
pub fn key(tenant_id: &str, caller: &str, role: &str, req: &HttpRequest) -> String {
    format!(
        "{tenant_id}\n{caller}\n{role}\n{}?{}",
        req.path(),
        req.query_string()
    )
}

impl AnswerCache {
    /// The body kept under `key`, if `db` is unchanged since it was read. Runs on the async
    /// executor: the check is a [`ChangeWatch`](crate::storage::ChangeWatch)'s, which never
    /// opens a file.
    pub fn get(&self, db: &Database, key: &str) -> Option<Bytes> {
        let generation = db.generations().peek()?;
        let mut answers = self.lock();
        match answers.get(key) {
            Some(answer) if answer.generation == generation => Some(answer.body.clone()),
            Some(_) => {
                answers.pop(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `body`, read at `generation` (taken before the read began).
    pub fn put(&self, key: String, generation: u64, body: Bytes) {
        if body.len() <= MAX_KEPT_BYTES {
            self.lock().put(key, Answer { generation, body });
        }
    }

    /// How many answers are kept now.
    pub fn held(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Answer>> {
        // Every operation under this lock is a single call on the cache.
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
