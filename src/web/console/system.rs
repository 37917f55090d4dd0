//! The system page: what an IT department asks first — which build runs, where its data and
//! logs are, how large each database is, where backups go and when.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::ConsoleChrome;
use super::tenant::readable_size;
use crate::build_info;
use crate::error::ApiError;
use crate::tenancy::registry;
use crate::web::AppState;
use crate::web::admin::OperatorSession;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::render;

endpoints! { area: Area::Console;
    GET "/admin/system" => show, Access::Operator, 200, "The system page", [];
}

struct DatabaseRow {
    name: String,
    file: String,
    size: String,
}

#[derive(Template)]
#[template(path = "console_system.html")]
struct SystemPage {
    chrome: ConsoleChrome,
    version: &'static str,
    commit: &'static str,
    built: &'static str,
    listen: String,
    public_url: String,
    data_dir: String,
    log_dir: String,
    backup_dir: String,
    backups: String,
    databases: Vec<DatabaseRow>,
}

fn file_size(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    [path, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

async fn show(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    let config = std::sync::Arc::clone(&state.config);
    let tenants = state.control_db.run_as(|conn| registry::list(conn)).await?;
    let control = config.control_db_path();
    let mut databases = vec![DatabaseRow {
        name: "The appliance (operators, tenants, users, sessions)".to_owned(),
        file: control.display().to_string(),
        size: readable_size(file_size(&control)),
    }];
    databases.extend(tenants.into_iter().map(|t| {
        let path = config.tenants_dir().join(format!("{}.db", t.id));
        DatabaseRow {
            name: format!("{} ({})", t.name, t.slug),
            size: readable_size(file_size(&path)),
            file: path.display().to_string(),
        }
    }));
    render(&SystemPage {
        chrome: ConsoleChrome::new(&state, &operator, "/admin/system"),
        version: build_info::VERSION,
        commit: build_info::GIT_COMMIT,
        built: build_info::BUILD_DATE,
        listen: config.listen.to_string(),
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| "not set".to_owned()),
        data_dir: config.data_dir.display().to_string(),
        log_dir: config.log_dir.display().to_string(),
        backup_dir: config.backup_dir.display().to_string(),
        backups: config.backup_interval.map_or_else(
            || {
                "not scheduled (run holdfast backup create, or set backup_interval_hours)"
                    .to_owned()
            },
            |every| {
                format!(
                    "every {} hour(s), the newest {} kept",
                    every.as_secs() / 3600,
                    config.backup_keep
                )
            },
        ),
        databases,
    })
}
