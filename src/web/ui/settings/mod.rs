//! The tenant's settings, for its admins: one module per section.

mod fields;
mod pipelines;

pub(super) use fields::MODULE as FIELDS;
pub(super) use pipelines::MODULE as PIPELINES;
