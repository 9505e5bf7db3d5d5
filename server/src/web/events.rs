//! `/events`: the engine's event bus as Server-Sent Events, with a heartbeat so clients and
//! proxies see the connection alive, ending when the server shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

use super::AppState;

const HEARTBEAT: Duration = Duration::from_secs(10);

pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // A subscriber that fell behind skips what it missed rather than ending the stream.
    let engine_events = BroadcastStream::new(state.events.subscribe()).filter_map(|event| {
        let event = event.ok()?;
        let data = serde_json::to_string(&event).ok()?;
        Some(SseEvent::default().event(event.name()).data(data))
    });
    let heartbeats = IntervalStream::new(tokio::time::interval(HEARTBEAT)).map(|_| {
        SseEvent::default().event("heartbeat").data(format!(
            "{{\"at\":\"{}\"}}",
            chrono::Utc::now().to_rfc3339()
        ))
    });
    let shutdown = state.shutdown.clone();
    let events =
        futures::StreamExt::take_until(engine_events.merge(heartbeats).map(Ok), async move {
            shutdown.cancelled().await
        });
    Sse::new(events).keep_alive(KeepAlive::default())
}
