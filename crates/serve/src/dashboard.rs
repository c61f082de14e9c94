//! The risk dashboard page at `/`: one embedded HTML file that polls the JSON endpoints.

use axum::response::Html;

const PAGE: &str = include_str!("dashboard.html");

/// `GET /`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}
