//! `POST /contacts/{id}/erase`: a person's data goes for good (admins), audited by id only.
//! It works on an expired license too: erasing someone on request is a duty under
//! data-protection law, licensed or not.

use actix_web::{HttpRequest, HttpResponse, web};

use super::write;
use crate::crm::erase::{self, Erased};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    POST "/contacts/{id}/erase" => erase_contact, Access::Tenant(Role::Admin), 200,
        "Erase a contact (live or in the trash; one gone already is no error) for good, not to the trash: its tags, timeline, attachments, deal links, activities about it alone (others lose the link), what imports kept of it, and its search entries. Answers what went",
        [], out: Erased;
}

async fn erase_contact(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("erase of contact {id}"));
    let erased = write(&state, &session, move |conn, _| erase::contact(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(erased))
}
