use super::Kind;
use crate::error::{ApiError, ErrorCode};
use crate::storage::StorageError;

/// Why a CRM operation was refused or failed. Every refusal changes nothing: the
/// transaction it ran in is rolled back.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// A field, filter or value that is not acceptable; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// No such record here (or one the caller may not see: the same answer).
    #[error("there is no such {0}")]
    NotFound(Kind),
    /// Something else that is not there: a pipeline, stage, tag, definition.
    #[error("there is no such {0}")]
    Missing(&'static str),
    /// The record changed since the caller read it.
    #[error(
        "the record has changed since you read it (it is at version {current}); read it again and redo your change"
    )]
    VersionMismatch { current: i64 },
    /// A change that would break the data's rules (a stage that still holds deals).
    #[error("{0}")]
    Conflict(String),
    /// A member deleting or restoring a record that is not theirs.
    #[error(
        "members delete and restore only their own records (owned or made by them); ask an admin"
    )]
    NotYours,
    /// A file larger than the tenant allows (bytes).
    #[error("the file is larger than this tenant allows ({0} bytes)")]
    TooLarge(i64),
    /// A list cursor that was not made by this list, or was altered.
    #[error("the cursor is not one this list gave out, or it was altered")]
    InvalidCursor,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for CrmError {
    fn from(err: rusqlite::Error) -> Self {
        CrmError::Storage(StorageError::Sqlite(err))
    }
}

impl CrmError {
    /// A refusal of `field`: `field: why`.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        CrmError::Invalid(format!("{field}: {why}"))
    }
}

impl From<CrmError> for ApiError {
    fn from(err: CrmError) -> Self {
        let code = match &err {
            CrmError::Invalid(_) => ErrorCode::InvalidInput,
            CrmError::NotFound(_) | CrmError::Missing(_) => ErrorCode::NotFound,
            CrmError::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            CrmError::Conflict(_) => ErrorCode::Conflict,
            CrmError::InvalidCursor => ErrorCode::InvalidCursor,
            CrmError::NotYours => ErrorCode::NotYourRecord,
            CrmError::TooLarge(_) => ErrorCode::PayloadTooLarge,
            CrmError::Storage(_) => return ApiError::internal(err),
        };
        ApiError::with_message(code, format!("{err}."))
    }
}
