//! The tenant's settings, for its admins: one module per section.

mod branding;
mod fields;
mod pipelines;

pub(super) use branding::MODULE as BRANDING;
pub(super) use fields::MODULE as FIELDS;
pub(super) use pipelines::MODULE as PIPELINES;
