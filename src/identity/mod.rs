//! Identity: operators, users of the tenants, their roles, passwords, sessions and the seats
//! they hold.

mod email;
pub mod operators;
pub mod password;
mod role;
pub mod secret;
pub mod sessions;
pub mod setup;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use email::{Email, InvalidEmail};
pub use role::Role;
pub use users::{Created, LinkPurpose, OneTimeLink, User, UserError, UserStatus};
