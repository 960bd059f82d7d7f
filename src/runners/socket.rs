//! socket.io for the runners: namespace `/runners` on `/socket.io/`,
//! websocket only (as the runner connects), a runner token in the
//! handshake's `auth`. The runner never polls: it asks for jobs when it
//! connects and when told `available-jobs`, which is sent to every
//! runner a second after the queue has news (as PeerTube debounces it).
//! The `Host` rule every other route passes is checked here too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socketioxide::extract::{Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;
use tokio_util::sync::CancellationToken;

use super::Runners;
use crate::sync::Locked;

/// Runners are told about new jobs this long after the news, so a burst
/// of changes is one message.
const DEBOUNCE: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The layer to put in front of the HTTP routes, and the handle to emit.
pub fn layer(runners: Arc<Runners>, hosts: crate::lan::AllowedHosts) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::new_layer();
    // Socket id -> runner id, to count the runner's connections down.
    let sockets: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let auth = {
        let (runners, sockets) = (runners.clone(), sockets.clone());
        move |s: SocketRef, Data(auth): Data<serde_json::Value>| {
            let host = s
                .req_parts()
                .headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(crate::lan::host_name);
            if host.is_some_and(|h| !hosts.allows(h)) {
                return Err(Refused("pimedia does not answer to this name"));
            }
            let token = auth
                .get("runnerToken")
                .and_then(|t| t.as_str())
                .unwrap_or("");
            let runner = runners
                .runner(token)
                .map_err(|_| Refused("unknown runner token"))?;
            sockets.locked().insert(s.id.to_string(), runner.id);
            Ok::<(), Refused>(())
        }
    };
    let connected = move |s: SocketRef| {
        let Some(id) = sockets.locked().get(&s.id.to_string()).copied() else {
            return;
        };
        runners.connected(id, true);
        tracing::info!("a runner connected (number {id})");
        let (runners, sockets) = (runners.clone(), sockets.clone());
        s.on_disconnect(move |s: SocketRef| {
            if let Some(id) = sockets.locked().remove(&s.id.to_string()) {
                runners.connected(id, false);
                tracing::info!("a runner disconnected (number {id})");
            }
        });
    };
    io.ns("/runners", connected.with(auth));
    (layer, io)
}

/// Tells every connected runner `available-jobs` after each piece of news
/// from the queue (debounced), until `stop`.
pub async fn announce(io: SocketIo, runners: Arc<Runners>, stop: CancellationToken) {
    let mut news = runners.jobs().offers_changed();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = news.changed() => if changed.is_err() { return },
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(DEBOUNCE) => {}
        }
        news.borrow_and_update();
        if let Some(ns) = io.of("/runners") {
            if let Err(e) = ns.emit("available-jobs", &()).await {
                tracing::debug!("telling the runners failed: {e}");
            }
        }
    }
}
