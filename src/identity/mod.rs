//! Identity: users of the tenants, their roles and passwords, and the seats they hold.

mod email;
pub mod password;
mod role;
pub mod secret;
pub mod users;

pub use email::{Email, InvalidEmail};
pub use role::Role;
pub use users::{Created, LinkPurpose, OneTimeLink, User, UserError, UserStatus};
