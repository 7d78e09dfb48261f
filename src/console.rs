//! The web console at `/console`: plain HTML, CSS and JavaScript built into the binary. The
//! console signs its requests in the browser (signature V3, Web Crypto) and calls the same
//! RPC API on `/` as the SDKs; these routes serve only the static files.

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};

/// Only this origin: no script, style, font or request may go to another host.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The console's files: name, content type, content.
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", HTML, include_str!("../console/index.html")),
    ("style.css", CSS, include_str!("../console/style.css")),
    ("sign.js", JS, include_str!("../console/sign.js")),
    ("api.js", JS, include_str!("../console/api.js")),
    ("chart.js", JS, include_str!("../console/chart.js")),
    ("records.js", JS, include_str!("../console/records.js")),
    ("domains.js", JS, include_str!("../console/domains.js")),
    ("app.js", JS, include_str!("../console/app.js")),
];

/// The console routes, ready to merge into the server's router.
pub fn router() -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { file("index.html") }))
        .route(
            "/console/{name}",
            get(|Path(name): Path<String>| async move { file(&name) }),
        )
}

fn file(name: &str) -> Response {
    let Some((_, kind, body)) = FILES.iter().find(|(file, _, _)| *file == name) else {
        return (StatusCode::NOT_FOUND, "no such console file\n").into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, *kind),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (headers, *body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_served_and_others_are_not() {
        for (name, _, _) in FILES {
            assert_eq!(file(name).status(), StatusCode::OK, "{name}");
        }
        assert_eq!(file("../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn no_file_loads_anything_from_another_host() {
        let loads = [
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
            "fetch(\"http",
        ];
        for (name, _, body) in FILES {
            for needle in loads {
                assert!(
                    !body.contains(needle),
                    "{name} loads from another host: {needle}"
                );
            }
        }
    }
}
