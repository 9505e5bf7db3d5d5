//! The OpenAPI document's frame (info, server, bearer security, the problem schema) and the
//! responses every operation shares, added to each operation from what it is: every one can
//! answer 401 and 500, one with a path parameter 400 and 404, one that writes 403, one with a
//! body 400, 415 and 422.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, ServerBuilder};

use super::problem::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Berth API",
        description = "Berth's REST API: update intelligence (maintenant's endpoints) and \
                       Berth's own actions. Send `Authorization: Bearer <token>`; create a \
                       token with `berth token create NAME --scope read|write`. Errors are \
                       `application/problem+json`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    tags(
        (name = "updates", description = "maintenant's update-intelligence endpoints"),
        (name = "services", description = "Services, revisions and the actions on them"),
        (name = "registries", description = "Registries with quota and request counts"),
        (name = "events", description = "The live event stream (SSE)")
    )
)]
struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.servers = Some(vec![
        ServerBuilder::new()
            .url("/api/v1")
            .description(Some("This server"))
            .build(),
    ]);
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API token from `berth token create`"))
                .build(),
        ),
    );
    document
}

/// Add the shared responses and the security requirement to every operation.
pub fn complete(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in document.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for (writes, operation) in [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.put.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.patch.as_mut()),
        ]
        .into_iter()
        .filter_map(|(writes, op)| op.map(|op| (writes, op)))
        {
            operation.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let has_body = operation.request_body.is_some();
            let shared = [
                (true, "401", "No token, or an unknown or revoked one"),
                (true, "500", "Berth failed (the detail says how)"),
                (
                    has_path_params || has_body,
                    "400",
                    "A malformed path parameter or body",
                ),
                (has_path_params, "404", "Nothing has this id"),
                (writes, "403", "The token has the read scope"),
                (has_body, "415", "The body is not JSON"),
                (has_body, "422", "The body is JSON but a field is wrong"),
            ];
            for (applies, status, description) in shared {
                if applies {
                    add_problem(operation, status, description);
                }
            }
        }
    }
    document
}

fn add_problem(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
                .into()
        });
}
