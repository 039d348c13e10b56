//! Static files, compiled into the binary: bastions are often air-gapped, so nothing is
//! loaded from a CDN. `asciinema-player` 3.18.0 comes from its npm package
//! (`npm pack asciinema-player@3.18.0`, files `dist/bundle/asciinema-player.min.js` and
//! `.css`, Apache-2.0, licence beside them in `assets/`), pinned by SHA-256 in `assets/README.md`.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "asciinema-player.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/asciinema-player.min.js"),
    ),
    (
        "asciinema-player.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/asciinema-player.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    ),
];

pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (CONTENT_TYPE, *mime),
                (CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
