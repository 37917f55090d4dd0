//! A tenant's whole archive (see `crate::archive`) as a download: written to an unnamed
//! temporary file from one snapshot of the tenant's database, then streamed from it in
//! slices. For operators (any tenant) and for a tenant's owners (their own); each download
//! is in the tenant's audit log.

use std::io::{Read, Seek, SeekFrom};

use actix_web::{HttpResponse, web};

use super::AppState;
use crate::error::ApiError;
use crate::identity::users;
use crate::tenancy::Tenant;

/// Bytes read from the archive per slice of the body.
const SLICE: usize = 64 * 1024;

/// The archive of `tenant`, downloaded by `actor`.
pub async fn respond(
    state: &web::Data<AppState>,
    tenant: Tenant,
    actor: String,
) -> Result<HttpResponse, ApiError> {
    let state = state.clone();
    let slug = tenant.slug.clone();
    let (file, size, date) = web::block(move || -> Result<_, ApiError> {
        let people = users::list(
            &*state.control_db.conn().map_err(ApiError::internal)?,
            &tenant.id,
        )?;
        let db = state
            .tenant_dbs
            .get(&tenant.id.parse().map_err(ApiError::internal)?)
            .map_err(ApiError::internal)?;
        let mut conn = db.conn().map_err(ApiError::internal)?;
        let mut file = tempfile::tempfile_in(&state.config.data_dir).map_err(ApiError::internal)?;
        let tx = conn.transaction().map_err(ApiError::internal)?;
        let manifest =
            crate::archive::write(&tx, &tenant, &people, &state.config.data_dir, &mut file)
                .map_err(ApiError::internal)?;
        tx.commit().map_err(ApiError::internal)?;
        let entry = crate::audit::NewEntry {
            actor,
            action: "archive".into(),
            target: format!(
                "the tenant's whole data: {} files",
                manifest.files.len() + 1
            ),
            address: None,
            outcome: crate::audit::Outcome::Success,
        };
        crate::audit::record(&mut conn, &entry).map_err(ApiError::internal)?;
        let size = file.seek(SeekFrom::End(0)).map_err(ApiError::internal)?;
        file.seek(SeekFrom::Start(0)).map_err(ApiError::internal)?;
        Ok((file, size, manifest.created_at))
    })
    .await
    .map_err(ApiError::internal)??;
    let name = format!("holdfast-{slug}-{}.tar", &date[..10]);
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header(super::tenant::disposition(&name))
        .no_chunking(size)
        .streaming(file_body(file)))
}

/// A file's bytes as a response body, read in slices on the blocking pool.
pub fn file_body(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut slice = vec![0; SLICE];
            let n = file.read(&mut slice)?;
            slice.truncate(n);
            Ok::<_, std::io::Error>((slice, file))
        })
        .await;
        match read {
            Ok(Ok((slice, _))) if slice.is_empty() => None,
            Ok(Ok((slice, file))) => {
                Some((Ok::<_, std::io::Error>(web::Bytes::from(slice)), Some(file)))
            }
            Ok(Err(err)) => Some((Err(err), None)),
            Err(err) => Some((Err(std::io::Error::other(err.to_string())), None)),
        }
    })
}
