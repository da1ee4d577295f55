//! `serve`: the router of `routes/` on a bound socket, with the snapshot generator beside it.

use crate::routes::router;
use crate::state::{AppState, Wake};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Serves until Ctrl-C, printing `listening on http://HOST:PORT` once the socket is bound.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    wake: Option<mpsc::Receiver<Wake>>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if let Some(rx) = wake {
        tokio::spawn(crate::generator::run(state.clone(), rx));
    }
    println!("listening on http://{addr}");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
