//! Finding pimedia without typing: the QR tile (its decoding is a browser
//! test), the Avahi service file, and the TV's own player through minidlna
//! browsed with a real UPnP client.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[test]
fn the_library_has_a_phone_tile_unless_it_is_turned_off() {
    let s = Server::start(&[]);
    let (_, page) = s.text("/");
    assert!(page.contains(r#"href="/phone""#), "{page}");
    assert!(page.contains("Add videos from your phone"));
    // With a name in Host:, the address carries this machine's LAN IPv4.
    let page = s
        .get_with("/phone", &[("host", "raspberrypi.local:8080")])
        .text()
        .unwrap();
    let url = page
        .split(r#"id="qr-url">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    let host = url
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix(":8080/upload"))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(host.parse::<std::net::Ipv4Addr>().is_ok(), "{url}");
    assert!(page.contains("<svg"), "drawn on the server");

    let s = Server::start(&["--phone-tile", "off"]);
    assert!(!s.text("/").1.contains(r#"href="/phone""#));
}

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

#[test]
fn the_avahi_service_file_announces_http_on_port_80() {
    let file = deploy().join("avahi/pimedia.service");
    let check = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "service-group", root.tag
name = root.find("name")
assert name.get("replace-wildcards") == "yes" and "%h" in name.text, name.text
service = root.find("service")
print(service.find("type").text, service.find("port").text)
"#;
    let out = succeed(Command::new("python3").args(["-c", check]).arg(&file));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "_http._tcp 80");
    let install = std::fs::read_to_string(deploy().join("install.sh")).unwrap();
    assert!(install.contains("/etc/avahi/services/pimedia.service"));
}

/// A Python with async-upnp-client, made once under target/.
fn upnp_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/upnp-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("/usr/bin/python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "async-upnp-client>=0.38,<1"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not make a Python venv with async-upnp-client (python3-venv, PyPI)"
        );
    }
    python
}

struct Minidlna(std::process::Child);

impl Drop for Minidlna {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_tvs_own_player_lists_the_library_and_no_dot_folder() {
    let d = tempfile::tempdir().unwrap();
    let media = d.path().join("media");
    for f in [
        "a.mp4",
        "Kids/b.mp4",
        ".trash-pimedia/0123/files/gone.mp4",
        ".pimedia/x.mp4",
        // Files made from a video are not entries of their own, for the
        // TV's player either (an MP4 inside, no video extension).
        "a.mp4.720p",
        "a.mp4.audio",
        "a.mp4.audio-1",
    ] {
        std::fs::create_dir_all(media.join(f).parent().unwrap()).unwrap();
        std::fs::copy(sample_mp4(), media.join(f)).unwrap();
    }
    std::fs::copy(sample_mp4(), media.join(".pimedia-tmp-upload-1-c.mp4")).unwrap();
    let db = d.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let port = free_port().to_string();
    // The configuration install.sh --dlna writes, with a port and a
    // database of this test's own.
    let out = succeed(
        Command::new("sh")
            .arg(deploy().join("install.sh"))
            .args(["--print-dlna-config"])
            .arg(&media)
            .arg(&db)
            .args([port.as_str(), "pimedia test"]),
    );
    let conf = d.path().join("minidlna.conf");
    std::fs::write(&conf, &out.stdout).unwrap();
    let minidlnad = ["/usr/sbin/minidlnad", "/usr/bin/minidlnad"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("minidlna is not installed: sudo apt-get install minidlna (tests/run.sh does)");
    let _server = Minidlna(
        Command::new(minidlnad)
            .arg("-f")
            .arg(&conf)
            .arg("-P")
            .arg(d.path().join("minidlna.pid"))
            .arg("-d")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let python = upnp_python();
    let url = format!("http://127.0.0.1:{port}/rootDesc.xml");
    let browse = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dlna_browse.py");
    let mut seen = serde_json::Value::Null;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let out = Command::new(&python)
            .arg(&browse)
            .arg(&url)
            .output()
            .unwrap();
        if out.status.success() {
            seen = serde_json::from_slice(&out.stdout).unwrap();
            if seen["videos"].as_array().is_some_and(|v| v.len() >= 2) {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(seen["name"], "pimedia test");
    assert_eq!(seen["videos"], serde_json::json!(["Kids/b", "a"]), "{seen}");
}
