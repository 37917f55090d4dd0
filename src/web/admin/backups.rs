//! Backups in the operator API: the list with the schedule and the last result, a backup made
//! now, and a download of one.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::OperatorSession;
use crate::error::{ApiError, ErrorCode};
use crate::web::AppState;
use crate::web::backups::{self, LastBackup, Listed, StartError};
use crate::web::endpoint::{Access, Area, endpoints};

endpoints! { area: Area::Admin;
    GET "/backups" => list, Access::Operator, 200,
        "The backups in the backup directory, newest first, with the schedule and the last backup's result",
        [], out: BackupList;
    POST "/backups" => start, Access::Operator, 201,
        "Make a backup now (one at a time): a consistent copy of every database with a manifest",
        [Conflict, BackupFailed], out: Made;
    GET "/backups/{name}" => download, Access::Operator, 200,
        "Download one backup archive", [NotFound];
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BackupList {
    /// Hours between scheduled backups; none when they are off.
    pub interval_hours: Option<u64>,
    /// Scheduled backups kept.
    pub keep: u32,
    pub last: Option<LastBackup>,
    pub backups: Vec<Listed>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Made {
    pub name: String,
    pub instance_id: String,
    /// Databases in it: the control database and each tenant's.
    pub databases: usize,
    pub bytes: u64,
}

async fn list(state: web::Data<AppState>, _: OperatorSession) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let listed = web::block(move || backups::list(&config.backup_dir))
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(BackupList {
        interval_hours: state.config.backup_interval.map(|d| d.as_secs() / 3600),
        keep: state.config.backup_keep,
        last: state.backups.last(),
        backups: listed,
    }))
}

async fn start(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let (path, manifest) =
        backups::make(&state, operator.actor())
            .await
            .map_err(|err| match err {
                StartError::Busy => ApiError::with_message(ErrorCode::Conflict, err.to_string()),
                StartError::Failed(why) => {
                    ApiError::new(ErrorCode::BackupFailed).caused_by(anyhow::anyhow!(why))
                }
            })?;
    Ok(HttpResponse::Created().json(Made {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        instance_id: manifest.instance_id,
        databases: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
    }))
}

async fn download(
    state: web::Data<AppState>,
    _: OperatorSession,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    if !backups::is_backup_name(&name) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let file_path = state.config.backup_dir.join(&name);
    let (file, size) = web::block(move || {
        let file = std::fs::File::open(file_path)?;
        let size = file.metadata()?.len();
        Ok::<_, std::io::Error>((file, size))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|_| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header(crate::web::tenant::disposition(&name))
        .no_chunking(size)
        .streaming(crate::web::archive_download::file_body(file)))
}
