//! The risk dashboard page at `/`: one embedded HTML file that polls the JSON endpoints, and
//! the chart library it draws with (uPlot 1.6.32, MIT, the same vendored copy the stress
//! reports embed: `crates/lab/src/report/assets/`), served from `/assets/`.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("dashboard.html");
const UPLOT_JS: &str = include_str!("../../lab/src/report/assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../lab/src/report/assets/uPlot.min.css");

/// `GET /`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /assets/uplot.js`.
pub async fn uplot_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        UPLOT_JS,
    )
}

/// `GET /assets/uplot.css`.
pub async fn uplot_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        UPLOT_CSS,
    )
}
