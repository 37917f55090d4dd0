//! What the route gates read about every caller — the tenant a request addresses, the session
//! or API token it presents, the signed-in user — kept in memory so that an authenticated
//! read costs no trip to the database.
//!
//! The rule that keeps it safe: the cache holds rows only while the control database has not
//! changed. Every look first asks a [`ChangeWatch`] whether anything committed since the last
//! look (from this process or another: the CLI writes the same file); if so, the whole cache
//! is emptied before anything is read from it. So a suspension, a revoked token or a demotion
//! made through the server takes effect on the very next request, as when every request read
//! the database, and one made by another process within a millisecond of its commit. The
//! control database changes rarely next to how often it is read, so emptying everything is
//! cheap and leaves nothing to get wrong.
//!
//! Only rows that exist are kept (never "no such session", which anyone could make up), keyed
//! by the SHA-256 of a secret, never the secret, and each kind is bounded (least recently
//! used goes first). The one "no such" kept is a host that is no tenant's custom domain — the
//! appliance's own names — and of those only a few.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use lru::LruCache;

use crate::identity::User;
use crate::identity::sessions::Session;
use crate::identity::tokens::TokenHolder;
use crate::storage::{ChangeWatch, StorageError};
use crate::tenancy::Tenant;

/// How many of each kind of row are kept. Tens of thousands of callers fit in a few MiB.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(10_000).expect("not zero");
/// How many hosts known to be no tenant's are kept: the appliance's own names, which every
/// request to the console or a prefix would otherwise look up. Anyone can send any host, so
/// this stays small: a flood of made-up hosts only pushes the real ones out.
const UNCLAIMED_HOSTS: NonZeroUsize = NonZeroUsize::new(64).expect("not zero");

/// How a tenant was asked for: by slug (prefix or subdomain) or by custom domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TenantKey {
    Slug(String),
    Host(String),
}

/// Which emptying of the cache a look saw. Rows read from the database after that look may
/// join the cache only while no later look has emptied it: otherwise they may predate the
/// change that emptied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

/// The cached rows. Every row here is as the database has it now: a look
/// ([`CallerCache::look`]) empties the cache first when the database changed.
#[derive(Debug)]
pub struct Entries {
    tenants: LruCache<TenantKey, Tenant>,
    /// By the SHA-256 of the cookie value.
    sessions: LruCache<String, Session>,
    /// By the SHA-256 of the token text.
    tokens: LruCache<String, TokenHolder>,
    /// By tenant id and user id.
    users: LruCache<(String, String), User>,
    /// Hosts that are no tenant's custom domain.
    unclaimed_hosts: LruCache<String, ()>,
}

impl Entries {
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        Self {
            tenants: LruCache::new(capacity),
            sessions: LruCache::new(capacity),
            tokens: LruCache::new(capacity),
            users: LruCache::new(capacity),
            unclaimed_hosts: LruCache::new(capacity.min(UNCLAIMED_HOSTS)),
        }
    }

    fn clear(&mut self) {
        self.tenants.clear();
        self.sessions.clear();
        self.tokens.clear();
        self.users.clear();
        self.unclaimed_hosts.clear();
    }

    pub fn tenant(&mut self, key: &TenantKey) -> Option<Tenant> {
        self.tenants.get(key).cloned()
    }

    pub fn session(&mut self, id_hash: &str) -> Option<Session> {
        self.sessions.get(id_hash).cloned()
    }

    pub fn token(&mut self, hash: &str) -> Option<TokenHolder> {
        self.tokens.get(hash).cloned()
    }

    pub fn user(&mut self, tenant_id: &str, id: &str) -> Option<User> {
        self.users
            .get(&(tenant_id.to_owned(), id.to_owned()))
            .cloned()
    }

    /// Whether `host` is known to be no tenant's custom domain.
    pub fn unclaimed(&mut self, host: &str) -> bool {
        self.unclaimed_hosts.get(host).is_some()
    }

    pub fn put_tenant(&mut self, key: TenantKey, tenant: Tenant) {
        self.tenants.put(key, tenant);
    }

    pub fn put_unclaimed(&mut self, host: String) {
        self.unclaimed_hosts.put(host, ());
    }

    pub fn put_session(&mut self, id_hash: String, session: Session) {
        self.sessions.put(id_hash, session);
    }

    pub fn put_token(&mut self, hash: String, holder: TokenHolder) {
        self.tokens.put(hash, holder);
    }

    pub fn put_user(&mut self, user: User) {
        self.users
            .put((user.tenant_id.clone(), user.id.clone()), user);
    }
}

#[derive(Debug)]
struct Inner {
    watch: ChangeWatch,
    generation: u64,
    entries: Entries,
}

impl Inner {
    fn empty(&mut self) {
        self.entries.clear();
        self.generation += 1;
    }
}

/// The gates' cache of callers, valid while the control database is unchanged.
#[derive(Debug)]
pub struct CallerCache {
    inner: Mutex<Inner>,
}

impl CallerCache {
    /// A cache of the control database at `path`. Blocking (opens a connection).
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        Self::with_capacity(path, CAPACITY)
    }

    fn with_capacity(path: &Path, capacity: NonZeroUsize) -> Result<Self, StorageError> {
        Ok(Self {
            inner: Mutex::new(Inner {
                watch: ChangeWatch::open(path)?,
                generation: 0,
                entries: Entries::new(capacity),
            }),
        })
    }

    /// Runs `read` over the cache as of now, emptied first if the control database changed
    /// since the last look.
    ///
    /// This runs on the async executor, the one exception to "blocking stays off the
    /// executor": the check is an atomic load and a clock read, and at most once a
    /// millisecond or after a commit, a read of the WAL index in shared memory (two `fcntl`
    /// locks, about 3 µs, never a wait for a busy lock: see [`ChangeWatch`]), which costs
    /// less than the hand-off to the blocking pool it saves. The lock is held for that check
    /// and a few lookups, never across an `await`.
    pub fn look<T>(&self, read: impl FnOnce(&mut Entries) -> T) -> (Generation, T) {
        let mut inner = self.lock();
        if inner.watch.changed() {
            inner.empty();
        }
        let found = read(&mut inner.entries);
        (Generation(inner.generation), found)
    }

    /// Adds rows read from the database after a look that returned `generation`; they are
    /// dropped if the cache has been emptied since, as they may predate that change.
    pub fn fill(&self, generation: Generation, add: impl FnOnce(&mut Entries)) {
        let mut inner = self.lock();
        if inner.generation == generation.0 {
            add(&mut inner.entries);
        }
    }

    /// How many rows the cache holds now, of every kind.
    pub fn held(&self) -> usize {
        let inner = self.lock();
        let entries = &inner.entries;
        entries.tenants.len()
            + entries.sessions.len()
            + entries.tokens.len()
            + entries.users.len()
            + entries.unclaimed_hosts.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| {
            // A panic under the lock may have come between a look that saw a change and
            // emptying the cache: trust nothing in it.
            let mut inner = poisoned.into_inner();
            inner.empty();
            self.inner.clear_poison();
            inner
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::sessions::Principal;
    use crate::storage::{Database, Schema};
    use crate::tenancy::TenantStatus;

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Database::open(&dir.path().join("c.db"), Schema::Control, 2).unwrap();
        (dir, db)
    }

    fn tenant(slug: &str) -> Tenant {
        Tenant {
            id: format!("id-{slug}"),
            slug: slug.to_owned(),
            name: slug.to_owned(),
            status: TenantStatus::Active,
            custom_domain: None,
            seat_limit: None,
            timezone: "UTC".to_owned(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn session() -> Session {
        Session {
            principal: Principal::Operator { id: "op".into() },
            csrf_token: "csrf".into(),
            expires_at: 10,
            last_seen_at: 0,
        }
    }

    fn key(slug: &str) -> TenantKey {
        TenantKey::Slug(slug.to_owned())
    }

    /// Fills the cache with tenant `slug` as a request would: a look, then the row.
    fn remember(cache: &CallerCache, slug: &str) {
        let (generation, ()) = cache.look(|_| ());
        cache.fill(generation, |e| e.put_tenant(key(slug), tenant(slug)));
    }

    fn commit(conn: &rusqlite::Connection) {
        conn.execute("UPDATE clock SET high_water_unix = high_water_unix + 1", [])
            .unwrap();
    }

    #[test]
    fn rows_are_kept_until_the_database_changes_in_this_process_or_another() {
        let (_dir, db) = database();
        let cache = CallerCache::open(db.path()).unwrap();
        remember(&cache, "acme");
        cache.fill(cache.look(|_| ()).0, |e| {
            e.put_session("hash".into(), session());
        });
        let (_, found) = cache.look(|e| (e.tenant(&key("acme")), e.session("hash")));
        assert_eq!(found.0, Some(tenant("acme")));
        assert!(found.1.is_some());

        commit(&db.conn().unwrap());
        let (_, found) = cache.look(|e| (e.tenant(&key("acme")), e.session("hash")));
        assert!(
            found.0.is_none() && found.1.is_none(),
            "a commit of the pool"
        );

        remember(&cache, "acme");
        commit(&rusqlite::Connection::open(db.path()).unwrap());
        std::thread::sleep(crate::storage::OTHER_PROCESSES_SEEN_WITHIN);
        let (_, found) = cache.look(|e| e.tenant(&key("acme")));
        assert_eq!(found, None, "a commit of another process");
    }

    #[test]
    fn rows_read_before_a_change_never_join_the_cache_after_it() {
        let (_dir, db) = database();
        let cache = CallerCache::open(db.path()).unwrap();
        // A request looks and misses, and reads the database…
        let (before, _) = cache.look(|e| e.tenant(&key("acme")));
        // …someone commits, and another request looks and empties the cache…
        commit(&db.conn().unwrap());
        let (after, ()) = cache.look(|_| ());
        assert_ne!(before, after);
        // …so what the first request read, possibly from before the commit, is dropped.
        cache.fill(before, |e| e.put_tenant(key("acme"), tenant("acme")));
        assert_eq!(cache.look(|e| e.tenant(&key("acme"))).1, None);
        cache.fill(after, |e| e.put_tenant(key("acme"), tenant("acme")));
        assert!(cache.look(|e| e.tenant(&key("acme"))).1.is_some());
    }

    #[test]
    fn each_kind_is_bounded() {
        let (_dir, db) = database();
        let cache = CallerCache::with_capacity(db.path(), NonZeroUsize::new(2).unwrap()).unwrap();
        for slug in ["a", "b", "c"] {
            remember(&cache, slug);
        }
        let (_, kept) = cache.look(|e| ["a", "b", "c"].map(|s| e.tenant(&key(s)).is_some()));
        assert_eq!(kept, [false, true, true], "the least recently used goes");
    }

    #[test]
    fn only_a_few_unclaimed_hosts_are_kept_and_a_change_forgets_them() {
        let (_dir, db) = database();
        let cache = CallerCache::open(db.path()).unwrap();
        let (generation, ()) = cache.look(|_| ());
        cache.fill(generation, |e| {
            for i in 0..1000 {
                e.put_unclaimed(format!("made-up-{i}.example"));
            }
        });
        assert_eq!(cache.held(), UNCLAIMED_HOSTS.get());
        assert!(cache.look(|e| e.unclaimed("made-up-999.example")).1);
        commit(&db.conn().unwrap());
        assert!(!cache.look(|e| e.unclaimed("made-up-999.example")).1);
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn a_panic_under_the_lock_empties_the_cache() {
        let (_dir, db) = database();
        let cache = CallerCache::open(db.path()).unwrap();
        remember(&cache, "acme");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cache.look(|_| panic!("in the middle of a look"));
        }));
        assert!(panicked.is_err());
        assert_eq!(cache.look(|e| e.tenant(&key("acme"))).1, None);
        remember(&cache, "acme");
        assert!(
            cache.look(|e| e.tenant(&key("acme"))).1.is_some(),
            "and works again"
        );
    }
}
