//! Events out: the paged history (read from the journal database through a read-only WAL
//! connection, so it never blocks the writer) and the live server-sent-event stream.

use crate::http::{principal, App};
use crate::refusal::Refusal;
use crate::store::Reader;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use std::convert::Infallible;
use std::fmt::Write;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

/// Largest page of history.
pub const MAX_PAGE: i64 = 1000;

/// `after`: the last seq already seen (default 0); `limit`: commands per page (≤ 1000).
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct Page {
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// Committed commands after `after`, each `{seq, time, events}`, with `next` to page on.
#[utoipa::path(get, path = "/v1/events", params(Page), responses((status = 200, body = Object)))]
pub async fn history(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Result<Response, Refusal> {
    principal(&app, &headers)?;
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let data = app.data.clone();
    let rows = tokio::task::spawn_blocking(move || Reader::open(&data)?.page(after, limit))
        .await
        .map_err(|e| Refusal::unavailable(e.to_string()))?
        .map_err(|e| Refusal::unavailable(e.to_string()))?;
    // A damaged batch (not yet dropped by a restart) ends the page: nothing past it is served.
    let rows: Vec<_> = rows.into_iter().take_while(|r| r.intact).collect();
    let mut s = String::from("{\"events\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"seq\":{},\"time\":{},\"events\":{}}}",
            r.seq, r.time, r.events
        );
    }
    let next = rows.last().map_or(after, |r| r.seq);
    let _ = write!(s, "],\"next\":{next}}}");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        s,
    )
        .into_response())
}

/// Server-sent events: one `command` event per committed command (`id` = seq, data =
/// `{seq, time, events}`); a `lagged` event says how many a slow reader missed.
#[utoipa::path(get, path = "/v1/events/stream", responses((status = 200, description = "text/event-stream", content_type = "text/event-stream")))]
pub async fn live(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Refusal> {
    principal(&app, &headers)?;
    let rx = app.shared.events.subscribe();
    let stream = BroadcastStream::new(rx).map(|item| {
        Ok(match item {
            Ok(c) => Event::default()
                .event("command")
                .id(c.seq.to_string())
                .data(format!(
                    "{{\"seq\":{},\"time\":{},\"events\":{}}}",
                    c.seq, c.time, c.events
                )),
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
        })
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
