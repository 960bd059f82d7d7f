//! Learning what each TV plays: reports and failures through the JSON API
//! and the devices page's forms (no script), the household target they
//! make, and the transcodes that follow it (queued, dropped, made).

mod common;
use common::*;

use serde_json::{json, Value};

const LG: &str = "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/38.0.2125.122 Safari/537.36 WebAppManager";
const SAMSUNG: &str = "Mozilla/5.0 (SMART-TV; LINUX; Tizen 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/5.0 TV Safari/537.36";

const TV1: &str = "pimedia_viewer=11111111111111111111111111111111";
const TV2: &str = "pimedia_viewer=22222222222222222222222222222222";

/// Every codec key the server asks about, answered "probably" for those in
/// `yes` and "" for the rest.
fn answers(s: &Server, yes: &[&str]) -> Value {
    let me = s.json("/api/devices/me");
    let plays: serde_json::Map<String, Value> = me["codecs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = c["key"].as_str().unwrap();
            let answer = if yes.contains(&key) { "probably" } else { "" };
            (key.to_string(), json!(answer))
        })
        .collect();
    json!({ "plays": plays, "screen": [1920, 1080], "player": true })
}

const HEVC_TV: &[&str] = &["h264", "h264_51", "hevc", "hevc10", "aac", "mp3", "ac3"];
const H264_TV: &[&str] = &["h264", "aac", "mp3"];

fn report(s: &Server, cookie: &str, ua: &str, body: &Value) -> Value {
    let r = s
        .client()
        .post(s.url("/api/devices/me"))
        .header("cookie", cookie)
        .header("user-agent", ua)
        .json(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn jobs_for(s: &Server, source: &str) -> Vec<Value> {
    let jobs = s.json("/api/jobs");
    jobs.as_array()
        .unwrap()
        .iter()
        .filter(|j| j["source"] == source)
        .cloned()
        .collect()
}

fn tv_codecs(s: &Server) -> String {
    s.json("/healthz")["tv_codecs"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A server whose transcodes wait (the Pi is "hot"), so queued jobs can be
/// seen and dropped; `cool` lets them run.
struct Hot {
    s: Server,
    temp: std::path::PathBuf,
}

impl Hot {
    fn start(args: &[&str]) -> Hot {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("media")).unwrap();
        let temp = d.path().join("temp");
        std::fs::write(&temp, "85000\n").unwrap();
        let mut all = vec!["--thermal-file", temp.to_str().unwrap()];
        all.extend(args);
        let s = Server::start_in(d, &all);
        s.wait_until(10, "transcodes to pause", || {
            !s.json("/healthz")["transcodes_paused"].is_null()
        });
        Hot { s, temp }
    }

    fn cool(&self) {
        std::fs::write(&self.temp, "40000\n").unwrap();
    }

    /// Uploads an HEVC MP4 (tagged hvc1, index first, AAC): it plays as it
    /// is on an HEVC TV, and needs a transcode for any other.
    fn upload_hevc(&self, name: &str) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        let opts: Vec<&str> = X265
            .iter()
            .copied()
            .chain(["-tag:v", "hvc1", "-c:a", "aac", "-movflags", "+faststart"])
            .collect();
        make_clip(&file, 2, &opts);
        upload(&self.s, &file);
    }
}

#[test]
fn the_target_follows_the_tvs_that_watch() {
    let hot = Hot::start(&[]);
    let s = &hot.s;
    // No device yet: the baseline, so HEVC gets a transcode, for everyone.
    assert_eq!(tv_codecs(s), "h264");
    hot.upload_hevc("trip.mp4");
    let jobs = jobs_for(s, "trip.mp4");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["kind"], "transcode");
    assert_eq!(jobs[0]["state"], "queued");
    assert!(jobs[0]["for"].as_str().unwrap().starts_with("every TV"));

    // An HEVC TV opens the player: the transcode is no longer needed.
    let r = report(s, TV1, LG, &answers(s, HEVC_TV));
    assert_eq!(r["name"], "LG webOS TV");
    s.wait_until(10, "the target to learn HEVC", || {
        tv_codecs(s) == "h264,hevc"
    });
    s.wait_until(10, "the queued transcode to be dropped", || {
        jobs_for(s, "trip.mp4").is_empty()
    });
    assert!(s.media().join("trip.mp4").exists(), "nothing lost");
    assert!(s.log_text().contains("not needed any more"));

    // An H.264-only TV opens the player: a transcode again, for it.
    report(s, TV2, SAMSUNG, &answers(s, H264_TV));
    s.wait_until(10, "the target to drop HEVC", || tv_codecs(s) == "h264");
    s.wait_until(10, "a transcode for the Samsung", || {
        !jobs_for(s, "trip.mp4").is_empty()
    });
    assert_eq!(jobs_for(s, "trip.mp4")[0]["state"], "queued");
    assert_eq!(jobs_for(s, "trip.mp4")[0]["for"], "Samsung Tizen TV");
    let (_, page) = s.text("/jobs");
    assert!(page.contains("for: Samsung Tizen TV"), "{page}");

    // The API shows both, with their answers.
    let all = s.json("/api/devices");
    assert_eq!(all["learning"], true);
    assert_eq!(all["tv_codecs"], "h264");
    let devices = all["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let samsung = devices
        .iter()
        .find(|d| d["name"] == "Samsung Tizen TV")
        .unwrap();
    let hevc = samsung["plays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "hevc")
        .unwrap();
    assert_eq!(hevc["yes"], false);
    assert_eq!(samsung["convert"], true);
    let number = samsung["number"].as_u64().unwrap();

    // Renamed and unticked (JSON): the queued transcode is dropped again.
    let r = s
        .client()
        .post(s.url(&format!("/api/devices/{number}")))
        .header("accept", "application/json")
        .json(&json!({ "name": "Bedroom  Samsung", "convert": false }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().unwrap();
    assert_eq!(changed["name"], "Bedroom Samsung");
    assert_eq!(changed["convert"], false);
    s.wait_until(10, "HEVC to be back", || tv_codecs(s) == "h264,hevc");
    s.wait_until(10, "the transcode to be dropped", || {
        jobs_for(s, "trip.mp4").is_empty()
    });

    // The LG's player fails on it after all: marked, and a TV version is
    // queued at once, for the LG.
    let r = report(s, TV1, LG, &json!({ "failed": "trip.mp4", "player": true }));
    assert_eq!(r["marked"], "hevc");
    assert_eq!(r["job"]["kind"], "transcode", "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("a TV version is being made"),
        "{r}"
    );
    assert_eq!(tv_codecs(s), "h264");
    assert_eq!(jobs_for(s, "trip.mp4")[0]["for"], "LG webOS TV");
    let lg = &s.json("/api/devices")["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "LG webOS TV")
        .unwrap()
        .clone();
    let failed: Vec<&Value> = lg["plays"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["failed"] == true)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["key"], "hevc");

    // Cool again: the TV version is made, H.264, and the entry is it.
    hot.cool();
    let job = finished_job(s, "trip.mp4");
    assert_eq!(job["state"], "done", "{job}");
    let probe = ffprobe_json(&s.media().join("trip.tv.mp4"), &["-show_streams"]);
    assert_eq!(probe["streams"][0]["codec_name"], "h264");
    assert_eq!(s.video_paths(), vec!["trip.tv.mp4"]);
    assert!(s.media().join("trip.mp4").exists(), "the original stays");

    // Learned devices survive a restart.
    let d = s_stop(hot);
    let s = Server::start_in(d, &[]);
    assert_eq!(tv_codecs(&s), "h264");
    assert_eq!(
        s.json("/api/devices")["devices"].as_array().unwrap().len(),
        2
    );
}

fn s_stop(hot: Hot) -> tempfile::TempDir {
    hot.s.stop()
}

#[test]
fn the_devices_page_works_with_forms_and_the_password() {
    let s = Server::start(&["--upload-password", "sofa"]);
    // A page's own report needs no password.
    report(&s, TV1, LG, &answers(&s, HEVC_TV));
    let (status, page) = s.text("/devices");
    assert_eq!(status, 200);
    assert!(page.contains("LG webOS TV"), "{page}");
    assert!(page.contains(r#"action="/api/devices/1""#), "{page}");
    assert!(page.contains("✓ HEVC Main"), "{page}");
    assert!(page.contains("✗ VP9"), "{page}");
    assert!(page.contains("Changes need the upload password"), "{page}");
    assert!(page.contains("H.264 and HEVC video up to 1080p"), "{page}");

    // Without it, JSON and forms are refused with a sentence.
    let r = s
        .client()
        .post(s.url("/api/devices/1"))
        .header("accept", "application/json")
        .json(&json!({ "convert": false }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("password"));
    let r = s.post_form(
        "/api/devices/1",
        &[("form", "1"), ("name", "Living-room LG")],
    );
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("password"));
    assert_eq!(s.json("/api/devices")["devices"][0]["name"], "LG webOS TV");

    // The header works for scripts.
    let r = s
        .client()
        .post(s.url("/api/devices/1"))
        .header("accept", "application/json")
        .header("x-upload-password", "sofa")
        .json(&json!({ "name": "Living-room LG" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // The page's login form comes back to the page; then its forms work.
    let r = s.post_form(
        "/upload/login",
        &[("password", "sofa"), ("back", "/devices")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/devices");
    let login = set_cookie(&r);
    // An unticked box sends nothing: the form's marker says it was there.
    let r = s
        .client()
        .post(s.url("/api/devices/1"))
        .header("cookie", &login)
        .form(&[("form", "1"), ("name", "Den TV")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/devices");
    let d = &s.json("/api/devices")["devices"][0];
    assert_eq!(d["name"], "Den TV");
    assert_eq!(d["convert"], false);
    assert_eq!(d["convert_set"], false);
    let page = s
        .get_with("/devices", &[("cookie", &login)])
        .text()
        .unwrap();
    assert!(page.contains(r#"value="Den TV""#), "{page}");
    assert!(!page.contains("Changes need the upload password"));
    assert!(!page.contains(" checked>"), "unticked: {page}");

    // A change that is neither JSON nor a form is refused, not ignored.
    let r = s
        .client()
        .post(s.url("/api/devices/1"))
        .header("cookie", &login)
        .header("content-type", "application/json")
        .body("{\"convert\": ")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);

    // Forget.
    let r = s.post_with("/api/devices/1/forget", &[("cookie", &login)]);
    assert_eq!(r.status(), 303);
    assert_eq!(s.json("/api/devices")["devices"], json!([]));
    let r = s.post_with(
        "/api/devices/1/forget",
        &[("cookie", &login), ("accept", "application/json")],
    );
    assert_eq!(r.status(), 404);
}

#[test]
fn tv_codecs_given_replaces_learning() {
    let s = Server::start(&["--tv-codecs", "h264"]);
    let r = report(&s, TV1, LG, &answers(&s, HEVC_TV));
    assert_eq!(r["name"], "LG webOS TV");
    let h = s.json("/healthz");
    assert_eq!(h["tv_codecs"], "h264");
    assert_eq!(h["tv_codecs_learned"], false);
    let (_, page) = s.text("/devices");
    assert!(page.contains("--tv-codecs h264"), "{page}");
}

#[test]
fn a_browser_without_an_id_gets_one_and_reports_once_a_day() {
    let s = Server::start(&[]);
    assert_eq!(s.json("/api/devices/me")["due"], true);
    let r = s
        .client()
        .post(s.url("/api/devices/me"))
        .header("user-agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
        .json(&answers(&s, H264_TV))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = set_cookie(&r);
    assert!(header(&r, "set-cookie").contains("Max-Age=31536000"));
    let me: Value = s
        .get_with("/api/devices/me", &[("cookie", &cookie)])
        .json()
        .unwrap();
    assert_eq!(me["due"], false, "reported today");
    let d = &s.json("/api/devices")["devices"][0];
    assert_eq!(d["name"], "iPhone Safari");
    // Malformed reports are refused with a sentence.
    let r = s
        .client()
        .post(s.url("/api/devices/me"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// A TV whose page claims HEVC without the player having been opened (so
/// it does not count yet), and whose player then fails: the failure is
/// proof the player was opened, and the queued transcode says it is for
/// that TV — whichever of the page's report and the failure came first.
#[test]
fn who_a_transcode_is_for_does_not_depend_on_which_report_came_first() {
    let hot = Hot::start(&[]);
    let s = &hot.s;
    hot.upload_hevc("trip.mp4");
    assert!(jobs_for(s, "trip.mp4")[0]["for"]
        .as_str()
        .unwrap()
        .starts_with("every TV"));
    let mut claims = answers(s, HEVC_TV);
    claims["player"] = json!(false);
    report(s, TV1, LG, &claims);
    assert_eq!(
        tv_codecs(s),
        "h264",
        "not counted: it never opened the player"
    );
    let r = report(s, TV1, LG, &json!({ "failed": "trip.mp4", "player": true }));
    assert_eq!(r["job"]["kind"], "transcode", "{r}");
    s.wait_until(10, "the job to be for the LG", || {
        jobs_for(s, "trip.mp4")[0]["for"] == "LG webOS TV"
    });
    assert_eq!(jobs_for(s, "trip.mp4").len(), 1, "one job, asked for twice");
}
