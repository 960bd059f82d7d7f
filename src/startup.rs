//! Start-up and shutdown: the server's parts made in order from the
//! config, the background tasks each with an owner, and the order they
//! stop in. Request handlers never see this module; they get [`App`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Config;
use crate::devices::Devices;
use crate::fsutil::blocking;
use crate::intake::Intake;
use crate::jobs::Jobs;
use crate::library::Library;
use crate::media::Tools;
use crate::upload::tus::Tus;
use crate::upload::{Auth, Limits, Uploads};

/// The running server's parts, each with an owner that stops it.
pub struct Running {
    pub app: Arc<App>,
    /// socket.io for the runners, to put in front of the routes.
    pub socket_io: Option<socketioxide::layer::SocketIoLayer>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Prepares the folders, finds ffmpeg, scans the library, sweeps what a
/// crash left behind, and starts the remux pool.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let folders = prepare_folders(&config).await?;
    let (root, state_dir, tools) = (&folders.root, &folders.state_dir, &folders.tools);
    let stop = CancellationToken::new();
    let crate::library::Opened {
        library,
        indexer,
        leftovers,
        added,
        probed,
    } = Library::open(root.clone(), state_dir.clone(), tools.clone(), stop.clone()).await;
    let limits = Limits {
        max_upload: config.max_upload,
        reserve: config
            .disk_reserve
            .unwrap_or_else(|| crate::upload::default_reserve(root)),
    };
    let state = load_state(&config, &folders, &library, limits, leftovers).await?;
    warn_if_ocr_missing(tools.clone(), config.ocr_models.clone());
    let sensors = crate::jobs::thermal::Sensors {
        temperature: config.thermal_file.clone(),
        throttled: config.throttled_file.clone(),
        every: Duration::from_secs(1),
    };
    // Before `manage`: renames in the library move a profile's folders.
    let profiles = {
        let state_dir = state_dir.clone();
        Arc::new(
            off_the_workers("loading the profiles", move || {
                crate::profiles::Profiles::load(&state_dir)
            })
            .await?,
        )
    };
    let manage = crate::manage::Manage::new(
        library.root().to_path_buf(),
        state_dir,
        library.clone(),
        state.jobs.clone(),
        state.positions.clone(),
        state.versions.clone(),
        profiles.clone(),
    );
    let runners = {
        let (state_dir, jobs, stall) = (state_dir.clone(), state.jobs.clone(), config.runner_stall);
        Arc::new(
            off_the_workers("loading the runners", move || {
                crate::runners::Runners::load(&state_dir, jobs, stall)
            })
            .await?,
        )
    };
    let allowed_hosts = crate::lan::AllowedHosts::new(config.allowed_hosts.clone());
    let (socket_io, io) = crate::runners::socket::layer(runners.clone(), allowed_hosts.clone());
    let app = Arc::new(App {
        allowed_hosts,
        runners,
        manage,
        uploads: state.uploads,
        auth: state.auth,
        tus: state.tus,
        jobs: state.jobs,
        positions: state.positions,
        profiles,
        versions: state.versions,
        devices: state.devices,
        intake: state.intake,
        listen_slots: Arc::new(tokio::sync::Semaphore::new(config.listen_streams)),
        config,
        tools: tools.clone(),
        library,
    });
    let background = Background {
        indexer,
        added,
        probed,
        io,
        sensors,
        state_dir: state_dir.clone(),
    };
    let tasks = spawn_tasks(&app, background, &stop);
    Ok(Running {
        app,
        socket_io: Some(socket_io),
        stop,
        tasks,
    })
}

/// The media and state folders as they are on disk, and ffmpeg.
struct Folders {
    root: PathBuf,
    state_dir: PathBuf,
    tools: Tools,
}

/// Makes the media and state folders, recovers the state dir from a crash
/// mid-rename, and finds ffmpeg and ffprobe.
async fn prepare_folders(config: &Config) -> std::io::Result<Folders> {
    let (media, state, ffmpeg, ffprobe) = (
        config.media_dir.clone(),
        config.state_dir.clone(),
        config.ffmpeg.clone(),
        config.ffprobe.clone(),
    );
    off_the_workers("start-up", move || -> std::io::Result<_> {
        std::fs::create_dir_all(&media)?;
        std::fs::create_dir_all(&state)?;
        let (root, state_dir) = (media.canonicalize()?, state.canonicalize()?);
        // A rename pimedia did not finish is undone before anything is read.
        crate::manage::Journal::new(&state_dir).roll_back();
        Ok(Folders {
            root,
            state_dir,
            tools: Tools::locate(ffmpeg, ffprobe),
        })
    })
    .await?
}

/// Blocking start-up work, run off the async workers; `what` names it if
/// it panics.
async fn off_the_workers<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    blocking(f)
        .await
        .ok_or_else(|| std::io::Error::other(format!("{what} stopped unexpectedly")))
}

/// What the state files hold, each part with its owner.
struct State {
    jobs: Arc<Jobs>,
    intake: Arc<Intake>,
    devices: Arc<Devices>,
    uploads: Arc<Uploads>,
    tus: Tus,
    auth: Auth,
    positions: Arc<crate::positions::Positions>,
    versions: Arc<crate::versions::Versions>,
}

/// Reads the state files (off the async workers) into their owners, and
/// sweeps the temp files the scan found that no upload still needs.
async fn load_state(
    config: &Config,
    folders: &Folders,
    library: &Arc<Library>,
    limits: Limits,
    leftovers: Vec<PathBuf>,
) -> std::io::Result<State> {
    let (password, fixed_target, transcode) = (
        config.upload_password.clone(),
        config.target,
        config.transcode,
    );
    let settings = job_settings(config, limits.reserve);
    let wanted = config.versions.clone();
    let (root, state_dir) = (folders.root.clone(), folders.state_dir.clone());
    let (library, tools) = (library.clone(), folders.tools.clone());
    off_the_workers("loading the state", move || -> std::io::Result<_> {
        let devices = Arc::new(Devices::load(&state_dir, fixed_target));
        let versions = Arc::new(crate::versions::Versions::load(&state_dir, &root, wanted));
        let settings = settings(devices.subscribe());
        let jobs = Jobs::load(
            &state_dir,
            library.clone(),
            versions.clone(),
            tools.clone(),
            settings,
        );
        let intake = Arc::new(Intake::new(
            library,
            jobs.clone(),
            devices.clone(),
            versions.clone(),
            transcode,
        ));
        let uploads = Arc::new(Uploads::new(root.clone(), intake.clone(), tools, limits));
        let tus = Tus::load(&state_dir, &root, uploads.clone())?;
        sweep_leftovers(leftovers, &tus);
        let auth = Auth::new(&state_dir, password)?;
        let positions = Arc::new(crate::positions::Positions::load(&state_dir));
        Ok(State {
            jobs,
            intake,
            devices,
            uploads,
            tus,
            auth,
            positions,
            versions,
        })
    })
    .await?
}

/// The queue's settings from the config, once the TVs' target is known.
fn job_settings(
    config: &Config,
    disk_reserve: u64,
) -> impl FnOnce(tokio::sync::watch::Receiver<crate::media::Target>) -> crate::jobs::Settings {
    let (workers, transcode_workers, transcode, forced_encoder, delete_originals, on_job_done) = (
        config.workers,
        config.transcode_workers,
        config.transcode,
        config.encoder,
        config.delete_originals,
        config.on_job_done.clone(),
    );
    let transcode_on = config.transcode_on;
    move |target| crate::jobs::Settings {
        workers,
        transcode_workers,
        transcode,
        target,
        forced_encoder,
        delete_originals,
        on_job_done,
        disk_reserve,
        transcode_on,
    }
}

/// What OCR needs for the household's languages, said once if missing (a
/// job of a language whose pack is missing waits for it).
fn warn_if_ocr_missing(tools: Tools, models: Vec<String>) {
    tokio::task::spawn_blocking(move || {
        if let Some(install) = crate::media::ocr::missing_packages(&tools, &models) {
            tracing::warn!(
                "picture subtitles in {} can't all be read until OCR is installed: {install}",
                models.join(", ")
            );
        }
    });
}

/// What the background tasks take that the app does not keep.
struct Background {
    indexer: tokio::task::JoinHandle<()>,
    added: tokio::sync::mpsc::UnboundedReceiver<String>,
    probed: tokio::sync::mpsc::UnboundedReceiver<String>,
    io: socketioxide::SocketIo,
    sensors: crate::jobs::thermal::Sensors,
    state_dir: PathBuf,
}

/// Starts every background task, each stopped by `stop`: the state
/// writers, housekeeping, intake, the runners' watch, the folder watcher,
/// the heat watch and the job lanes.
fn spawn_tasks(
    app: &Arc<App>,
    background: Background,
    stop: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let Background {
        indexer,
        added,
        probed,
        io,
        sensors,
        state_dir,
    } = background;
    let (runners, intake, jobs) = (app.runners.clone(), app.intake.clone(), app.jobs.clone());
    let mut tasks = vec![
        indexer,
        tokio::spawn(app.devices.writer(stop.clone())),
        tokio::spawn(app.positions.writer(stop.clone())),
        tokio::spawn(app.versions.writer(stop.clone())),
        tokio::spawn(hourly(app.clone(), stop.clone())),
        tokio::spawn(intake.clone().run(probed, stop.clone())),
        tokio::spawn(runners.writer(stop.clone())),
        tokio::spawn(runners.clone().watchdog(stop.clone())),
        tokio::spawn(crate::runners::socket::announce(io, runners, stop.clone())),
        crate::watch::start(app.library.clone(), intake, added, state_dir, stop.clone()),
    ];
    // Only transcodes pause for heat: with them off, nothing to watch.
    if app.config.transcode {
        let watch = crate::jobs::thermal::watch(jobs.clone(), sensors, stop.clone());
        tasks.push(tokio::spawn(watch));
    }
    tasks.extend(jobs.start(stop.clone()));
    tasks
}

/// Temp files are never worth keeping after a restart; resumable uploads'
/// data files are, while their upload lives.
fn sweep_leftovers(leftovers: Vec<PathBuf>, tus: &Tus) {
    let live = tus.live_data_files();
    for path in leftovers {
        if live.contains(&path) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed leftover temp file {}", path.display()),
            Err(e) => tracing::warn!("cannot remove leftover {}: {e}", path.display()),
        }
    }
}

/// Housekeeping: abandoned resumable uploads expire, devices that have
/// not opened the player for 90 days stop counting, and the trash lets go
/// of what it has held for 30 days.
async fn hourly(app: Arc<App>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
        app.devices.refresh();
        app.manage.expire_trash().await;
        let app = app.clone();
        let _ = blocking(move || app.tus.expire()).await;
    }
}

impl Running {
    /// The first step of a shutdown, called at the signal: no new jobs,
    /// every ffmpeg stopped, while open requests finish. (Again from
    /// [`Running::shutdown`], harmlessly.)
    pub fn begin_shutdown(&self) {
        self.app.jobs.begin_shutdown();
        self.stop.cancel();
    }

    /// After the open requests: waits for background work to stop and
    /// saves the state (what those requests changed too).
    pub async fn shutdown(self) {
        self.begin_shutdown();
        for t in self.tasks {
            let _ = t.await;
        }
        self.app.jobs.finish_shutdown().await;
        self.app.devices.flush().await;
        self.app.positions.flush().await;
        self.app.versions.flush().await;
    }
}
