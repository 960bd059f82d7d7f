//! Start-up and shutdown only; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;
use pimedia::config::{Args, Config};
use pimedia::server::{self, Timeouts};

fn main() -> ExitCode {
    // pimedia's binary also starts each ffmpeg (see media::launch).
    if let Some(code) = pimedia::media::launch::guard_if_asked() {
        return code;
    }
    let args = Args::parse();
    let config = match Config::try_from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pimedia: {e}");
            return ExitCode::from(2);
        }
    };
    if config.print_ocr_packages {
        let packages: Vec<String> = config
            .ocr_models
            .iter()
            .map(|m| pimedia::media::ocr::package_for(m))
            .collect();
        println!("tesseract-ocr {}", packages.join(" "));
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,hyper=warn,warp=warn".into()),
        )
        .compact()
        // journald adds its own timestamps and colour makes no sense there.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let (listen, media) = (config.listen, config.media_dir.clone());
    let mut running = match pimedia::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pimedia: cannot prepare the media or state folder: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pimedia: cannot listen on {listen}: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!("serving {} on http://{listen}/", media.display());
    let routes = pimedia::web::routes(running.app.clone());
    let socket_io = running.socket_io.take().expect("made at start-up");
    let timeouts = Timeouts {
        max_connections: server::connection_limit(),
        ..Timeouts::default()
    };
    // At the signal: no new jobs and every ffmpeg stopped, while open
    // requests get their grace period.
    let signal = async {
        server::shutdown_signal().await;
        running.begin_shutdown();
    };
    server::serve(listener, routes, socket_io, timeouts, signal).await;
    running.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
