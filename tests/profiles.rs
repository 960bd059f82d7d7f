//! The people in the house (issue 33's first part), against the real
//! binary: profiles made, changed and removed through `/api/profiles`
//! with the upload password's rules, clear refusals, kept across a
//! restart; "Who's watching?" before the library with two of them, the
//! choice in a signed cookie, a PIN slowed like the password; each one's
//! own place in the same film and own "Continue watching", the
//! household's places seen by all after an upgrade; a limited profile's
//! folders only, everywhere, and nothing changed by it; a device kept to
//! one; the People forms on the Devices page. (Each one's choices, and
//! the chooser driven by a remote, are in tests/browser/profiles.test.js.)

mod common;
use common::*;

use serde_json::{json, Value};

fn post(s: &Server, path: &str, body: &Value, password: Option<&str>) -> (u16, Value) {
    let mut req = s
        .client()
        .post(s.url(path))
        .header("accept", "application/json");
    if !body.is_null() {
        req = req.json(body);
    }
    if let Some(p) = password {
        req = req.header("x-upload-password", p);
    }
    let r = req.send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or_default())
}

#[test]
fn profiles_are_made_changed_removed_and_kept() {
    let s = Server::start(&["--upload-password", "sofa"]);
    std::fs::create_dir_all(s.media().join("Kids")).unwrap();
    std::fs::create_dir_all(s.media().join("Cartoons")).unwrap();
    s.wait_until(10, "the folders to be seen", || {
        s.text("/").1.contains("Cartoons")
    });
    assert_eq!(s.json("/api/profiles"), json!([]));

    // Without the password: refused with a sentence, nothing made.
    let (status, said) = post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    assert_eq!(status, 401, "{said}");
    assert!(said["error"].as_str().unwrap().contains("password"));
    assert_eq!(s.json("/api/profiles"), json!([]));

    let (status, anna) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Anna", "color": "#1E88E5"}),
        Some("sofa"),
    );
    assert_eq!(status, 201, "{anna}");
    let (status, kids) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Kids", "pin": "1234", "folders": ["Kids", "Cartoons/"]}),
        Some("sofa"),
    );
    assert_eq!(status, 201, "{kids}");
    let list = s.json("/api/profiles");
    assert_eq!(list[0]["name"], "Anna");
    assert_eq!(list[0]["color"], "#1e88e5");
    assert_eq!(list[0]["limited"], false);
    assert_eq!(list[1]["folders"], json!(["Kids", "Cartoons"]));
    assert_eq!(list[1]["limited"], true);
    assert_eq!(list[1]["has_pin"], true);
    // The PIN is never said.
    assert!(!list.to_string().contains("1234"), "{list}");

    // Bad values: 400 with a sentence naming what is wrong.
    for (body, words) in [
        (json!({"name": "anna"}), "already"),
        (json!({"name": "Ben", "pin": "12"}), "4 digits"),
        (json!({"name": "Ben", "color": "red"}), "colour"),
        (json!({"name": "Ben", "folders": ["../etc"]}), "no folder"),
        (json!({"color": "#000000"}), "needs a name"),
    ] {
        let (status, said) = post(&s, "/api/profiles", &body, Some("sofa"));
        assert_eq!(status, 400, "{body} -> {said}");
        assert!(
            said["error"].as_str().unwrap().contains(words),
            "{body} -> {said}"
        );
    }

    let id = kids["id"].as_u64().unwrap();
    let (status, changed) = post(
        &s,
        &format!("/api/profiles/{id}"),
        &json!({"name": "Children", "pin": ""}),
        Some("sofa"),
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Children");
    assert_eq!(changed["has_pin"], false);
    assert_eq!(changed["folders"], json!(["Kids", "Cartoons"]));
    let (status, _) = post(&s, "/api/profiles/99", &json!({"name": "X"}), Some("sofa"));
    assert_eq!(status, 404);

    // Kept across a restart.
    let d = s.stop();
    let s = Server::start_in(d, &["--upload-password", "sofa"]);
    let list = s.json("/api/profiles");
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[1]["name"], "Children");
    let anna_id = anna["id"].as_u64().unwrap();
    let (status, _) = post(
        &s,
        &format!("/api/profiles/{anna_id}/remove"),
        &Value::Null,
        Some("sofa"),
    );
    assert_eq!(status, 200);
    let list = s.json("/api/profiles");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // HEAD as GET.
    let r = s.client().head(s.url("/api/profiles")).send().unwrap();
    assert_eq!(r.status(), 200);
}

/// The form the chooser posts for a profile, as a browser sends it.
fn choose(s: &Server, id: u64, pin: &str) -> reqwest::blocking::Response {
    s.client()
        .post(s.url("/profiles/choose"))
        .form(&[("id", id.to_string()), ("pin", pin.to_string())])
        .send()
        .unwrap()
}

#[test]
fn two_profiles_ask_who_is_watching_and_a_pin_is_slowed_like_the_password() {
    let s = Server::start(&[]);
    // One profile: nothing is asked yet.
    let (_, anna) = post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    assert_eq!(s.get("/").status(), 200);
    let (_, kids) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Kids", "pin": "2468"}),
        None,
    );
    let (anna, kids) = (anna["id"].as_u64().unwrap(), kids["id"].as_u64().unwrap());
    // Two: the library and a watch page lead to the chooser first.
    for page in ["/", "/watch/any.mp4"] {
        let r = s.get(page);
        assert_eq!(r.status(), 303, "{page}");
        assert_eq!(r.headers()["location"], "/profiles");
    }
    let (status, chooser) = s.text("/profiles");
    assert_eq!(status, 200);
    assert!(chooser.contains("Who&#39;s watching?") || chooser.contains("Who's watching?"));
    assert!(chooser.contains(">Anna</button>") && chooser.contains(">Kids</button>"));
    // A form per tile: no script needed to choose.
    assert_eq!(chooser.matches(r#"action="/profiles/choose""#).count(), 2);
    assert_eq!(chooser.matches(r#"name="pin""#).count(), 1);

    // Anna has no PIN: chosen, kept in a signed cookie, back to the library.
    let r = choose(&s, anna, "");
    assert_eq!(r.status(), 303);
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("pimedia_profile="), "{cookie}");
    let r = get_as(&s, &cookie, "/");
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("Anna · Switch"));
    // A cookie made up by hand is no choice.
    let forged = format!("pimedia_profile={kids}.{}", "0".repeat(64));
    assert_eq!(get_as(&s, &forged, "/").status(), 303);

    // Kids needs the PIN; five wrong ones are told, the sixth waits.
    for _ in 0..5 {
        let r = choose(&s, kids, "1111");
        assert_eq!(r.status(), 403);
        assert!(r.text().unwrap().contains("That is not Kids"));
    }
    let r = choose(&s, kids, "1111");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().unwrap().contains("Too many wrong PINs"));
    // Even the right one waits its turn; then it is taken.
    assert_eq!(choose(&s, kids, "2468").status(), 429);
    let mut cookie = String::new();
    s.wait_until(10, "the right PIN to be taken after the wait", || {
        let r = choose(&s, kids, "2468");
        if r.status() == 303 {
            cookie = set_cookie(&r);
        }
        !cookie.is_empty()
    });
    assert!(cookie.starts_with("pimedia_profile="), "{cookie}");
}

/// A browser that chose `id`: its profile cookie.
fn chosen(s: &Server, id: u64) -> String {
    let r = choose(s, id, "");
    assert_eq!(r.status(), 303);
    set_cookie(&r)
}

/// A GET from the browser holding `cookie`.
fn get_as(s: &Server, cookie: &str, path: &str) -> reqwest::blocking::Response {
    s.client()
        .get(s.url(path))
        .header("cookie", cookie)
        .send()
        .unwrap()
}

fn as_who(s: &Server, cookie: &str, path: &str) -> String {
    get_as(s, cookie, path).text().unwrap()
}

fn save(s: &Server, cookie: &str, path: &str, at: f64) {
    let r = s
        .client()
        .put(s.url(&format!("/api/positions/{path}")))
        .header("cookie", cookie)
        .body(json!({"position": at, "duration": 10.0}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn each_profile_keeps_its_own_place_and_an_upgrade_loses_none() {
    let d = media_with(&[
        ("film.mp4", &|p| make_mp4(p, 10)),
        ("cartoon.mp4", &|p| make_mp4(p, 10)),
    ]);
    // A state dir from before profiles: the household's place in the film.
    let state = d.path().join("media/.pimedia");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("positions.json"),
        r#"{"film.mp4": {"position": 7.0, "duration": 10.0, "updated": 1}}"#,
    )
    .unwrap();
    let s = Server::start_in(d, &[]);
    s.wait_until(10, "the videos to be read", || {
        s.json("/api/videos").as_array().unwrap().len() == 2
    });
    let (_, a) = post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    let (_, b) = post(&s, "/api/profiles", &json!({"name": "Ben"}), None);
    let anna = chosen(&s, a["id"].as_u64().unwrap());
    let ben = chosen(&s, b["id"].as_u64().unwrap());
    let place = |cookie: &str, path: &str| {
        let body = as_who(&s, cookie, &format!("/api/positions/{path}"));
        serde_json::from_str::<Value>(&body).unwrap()["position"]
            .as_f64()
            .unwrap()
    };
    // Nothing lost: both see the household's place at first.
    assert_eq!(place(&anna, "film.mp4"), 7.0);
    assert_eq!(place(&ben, "film.mp4"), 7.0);
    assert!(as_who(&s, &ben, "/").contains("Continue watching"));
    // Ben watches the film from the start, and a cartoon: Anna's place stays.
    save(&s, &ben, "film.mp4", 2.0);
    save(&s, &ben, "cartoon.mp4", 5.0);
    assert_eq!(place(&ben, "film.mp4"), 2.0);
    assert_eq!(place(&anna, "film.mp4"), 7.0);
    // Each one's Continue watching.
    let continuing = |cookie: &str| {
        let page = as_who(&s, cookie, "/");
        let start = page.find("continuing-heading").unwrap_or(0);
        let end = page[start..]
            .find("</section>")
            .map_or(page.len(), |e| start + e);
        page[start..end].to_string()
    };
    assert!(continuing(&ben).contains("cartoon"), "{}", continuing(&ben));
    assert!(
        !continuing(&anna).contains("cartoon"),
        "{}",
        continuing(&anna)
    );
    assert!(continuing(&anna).contains("film"));
    // Removed, Ben's places go with him.
    let id = b["id"].as_u64().unwrap();
    let (status, _) = post(
        &s,
        &format!("/api/profiles/{id}/remove"),
        &Value::Null,
        None,
    );
    assert_eq!(status, 200);
    let saved = std::fs::read_to_string(s.media().join(".pimedia/profile-positions.json"))
        .unwrap_or_default();
    assert!(!saved.contains("cartoon"), "{saved}");
}

#[test]
fn a_limited_profile_sees_only_its_folders_and_changes_nothing() {
    let d = media_with(&[]);
    let media = d.path().join("media");
    for f in ["Kids", "Cartoons", "Films"] {
        std::fs::create_dir_all(media.join(f)).unwrap();
    }
    make_mp4(&media.join("Kids/Bluey.mp4"), 3);
    make_mp4(&media.join("Cartoons/Pingu.mp4"), 3);
    make_mp4(&media.join("Films/Alien.mp4"), 3);
    make_mp4(&media.join("Alone.mp4"), 3);
    let s = Server::start_in(d, &[]);
    s.wait_until(10, "the videos to be read", || {
        s.json("/api/videos").as_array().unwrap().len() == 4
    });
    let (_, kids) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Kids", "folders": ["Kids", "Cartoons"]}),
        None,
    );
    let (_, grown) = post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    let kid = chosen(&s, kids["id"].as_u64().unwrap());
    let anna = chosen(&s, grown["id"].as_u64().unwrap());

    let get = |cookie: &str, path: &str| get_as(&s, cookie, path);
    let page = as_who(&s, &kid, "/");
    assert!(
        page.contains(">Kids<") && page.contains(">Cartoons<"),
        "{page}"
    );
    assert!(
        !page.contains(">Films<") && !page.contains("Alone"),
        "{page}"
    );
    let found = as_who(&s, &kid, "/?q=a");
    assert!(
        !found.contains("Alien") && !found.contains("Alone"),
        "{found}"
    );
    assert!(as_who(&s, &kid, "/?q=pingu").contains("Pingu"));
    let videos: Value = serde_json::from_str(&as_who(&s, &kid, "/api/videos")).unwrap();
    let mut paths = paths_of(&videos);
    paths.sort();
    assert_eq!(paths, ["Cartoons/Pingu.mp4", "Kids/Bluey.mp4"]);
    assert_eq!(get(&kid, "/watch/Films/Alien.mp4").status(), 404);
    assert_eq!(get(&kid, "/?dir=Films").status(), 404);
    assert_eq!(get(&kid, "/watch/Kids/Bluey.mp4").status(), 200);
    // No upload, rename, delete, nor the pages that do such things.
    for page in ["/upload", "/devices", "/helpers", "/jobs", "/trash"] {
        let r = get(&kid, page);
        assert_eq!(r.status(), 403, "{page}");
    }
    for action in ["rename", "delete"] {
        let r = s
            .client()
            .post(s.url(&format!("/api/videos/Kids/Bluey.mp4/{action}")))
            .header("cookie", &kid)
            .header("accept", "application/json")
            .json(&json!({"to": "Bingo"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 403, "{action}");
        let said: Value = r.json().unwrap();
        assert!(
            said["error"].as_str().unwrap().contains("another profile"),
            "{said}"
        );
    }
    assert!(media.join("Kids/Bluey.mp4").is_file());
    // The other profile sees everything.
    let videos: Value = serde_json::from_str(&as_who(&s, &anna, "/api/videos")).unwrap();
    assert_eq!(paths_of(&videos).len(), 4);
    assert_eq!(get(&anna, "/watch/Films/Alien.mp4").status(), 200);
    assert_eq!(get(&anna, "/upload").status(), 200);
}

#[test]
fn a_device_kept_to_a_profile_never_asks() {
    let s = Server::start(&[]);
    let (_, a) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Anna", "pin": "1357"}),
        None,
    );
    let (_, k) = post(&s, "/api/profiles", &json!({"name": "Kids"}), None);
    let kids = k["id"].as_u64().unwrap();
    // The children's TV, as it reports itself.
    let tv = "pimedia_viewer=22222222222222222222222222222222";
    let r = s
        .client()
        .post(s.url("/api/devices/me"))
        .header("cookie", tv)
        .json(&json!({"plays": {}, "screen": [1920, 1080], "player": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.get("/").status(), 303, "others are asked");
    let (status, said) = post(&s, "/api/devices/1", &json!({"profile": 99}), None);
    assert_eq!(status, 400, "{said}");
    let (status, device) = post(&s, "/api/devices/1", &json!({"profile": kids}), None);
    assert_eq!(status, 200, "{device}");
    assert_eq!(device["profile"], kids);
    assert_eq!(s.json("/api/devices")["devices"][0]["profile"], kids);
    // It never asks, and can't be switched to another profile.
    let page = as_who(&s, tv, "/");
    assert!(page.contains("Kids · Switch"), "{page}");
    let r = s
        .client()
        .post(s.url("/profiles/choose"))
        .header("cookie", tv)
        .form(&[("id", a["id"].to_string()), ("pin", "1357".into())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("kept to Kids"));
    // The Devices page offers the choice; unpinned, it asks again.
    let (_, page) = s.text("/devices");
    assert!(page.contains("Always Kids"), "{page}");
    let (status, device) = post(&s, "/api/devices/1", &json!({"profile": 0}), None);
    assert_eq!(status, 200);
    assert_eq!(device["profile"], Value::Null);
    assert_eq!(get_as(&s, tv, "/").status(), 303);
    // A removed profile's devices are kept to no one.
    post(&s, "/api/devices/1", &json!({"profile": kids}), None);
    post(
        &s,
        &format!("/api/profiles/{kids}/remove"),
        &Value::Null,
        None,
    );
    assert_eq!(s.json("/api/devices")["devices"][0]["profile"], Value::Null);
}

#[test]
fn people_are_made_and_changed_from_the_devices_page_forms() {
    let s = Server::start(&[]);
    std::fs::create_dir_all(s.media().join("Kids")).unwrap();
    std::fs::create_dir_all(s.media().join("Cartoons")).unwrap();
    s.wait_until(10, "the folders to be seen", || {
        s.text("/").1.contains("Cartoons")
    });
    let (_, page) = s.text("/devices");
    assert!(page.contains(r#"action="/api/profiles""#), "{page}");
    let form = |path: &str, fields: &[(&str, &str)]| {
        s.client().post(s.url(path)).form(fields).send().unwrap()
    };
    let r = form(
        "/api/profiles",
        &[
            ("name", "Kids"),
            ("color", "#43a047"),
            ("new_pin", "1234"),
            ("folders", "Kids\r\nCartoons\r\n"),
        ],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/devices#people");
    let p = &s.json("/api/profiles")[0];
    assert_eq!(p["folders"], json!(["Kids", "Cartoons"]));
    assert_eq!(p["has_pin"], true);
    let id = p["id"].as_u64().unwrap();
    let (_, page) = s.text("/devices");
    assert!(page.contains("Remove Kids"), "{page}");
    // Saved again with an empty PIN field: the PIN stays; "No PIN" clears it.
    let path = format!("/api/profiles/{id}");
    let r = form(
        &path,
        &[("name", "Children"), ("new_pin", ""), ("folders", "Kids")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(s.json("/api/profiles")[0]["has_pin"], true);
    assert_eq!(s.json("/api/profiles")[0]["folders"], json!(["Kids"]));
    form(&path, &[("name", "Children"), ("no_pin", "on")]);
    assert_eq!(s.json("/api/profiles")[0]["has_pin"], false);
    // A bad value: the page again, saying why.
    let r = form("/api/profiles", &[("name", "Ben"), ("folders", "Nowhere")]);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("There is no folder"));
}

/// A grown-up's change from the phone (no profile chosen, no password
/// set): its status and JSON.
fn change(s: &Server, path: &str, body: &Value) -> (u16, Value) {
    post(s, path, body, None)
}

/// The library paths a browser's `/api/videos` lists.
fn seen_by(s: &Server, cookie: &str) -> Vec<String> {
    let mut paths = paths_of(&serde_json::from_str(&as_who(s, cookie, "/api/videos")).unwrap());
    paths.sort();
    paths
}

#[test]
fn a_renamed_folder_keeps_its_child_and_a_new_folder_of_the_old_name_is_not_theirs() {
    let d = media_with(&[]);
    let media = d.path().join("media");
    make_mp4(&media.join("Kids/Bluey.mp4"), 3);
    std::fs::copy(media.join("Kids/Bluey.mp4"), media.join("Kids/Peppa.mp4")).unwrap();
    make_mp4(&media.join("Films/Alien.mp4"), 3);
    let s = Server::start_in(d, &[]);
    s.wait_until(10, "the videos to be read", || s.video_paths().len() == 3);
    let (_, kids) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Kids", "folders": ["Kids"]}),
        None,
    );
    post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    let kid = chosen(&s, kids["id"].as_u64().unwrap());
    let (status, trashed) = change(&s, "/api/videos/Kids/Peppa.mp4/delete", &json!({}));
    assert_eq!(status, 200, "{trashed}");

    let (status, said) = change(&s, "/api/videos/Kids/rename", &json!({"to": "Children"}));
    assert_eq!(status, 200, "{said}");
    // Its list follows, and so does what it sees.
    assert_eq!(s.json("/api/profiles")[0]["folders"], json!(["Children"]));
    assert_eq!(seen_by(&s, &kid), ["Children/Bluey.mp4"]);
    // What was in the trash comes back where its folder is now: the child's.
    let restore = format!("/api/trash/{}/restore", trashed["trash"].as_str().unwrap());
    let (status, back) = change(&s, &restore, &json!({}));
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["path"], "Children/Peppa.mp4");
    s.wait_until(30, "the child to see it back", || {
        seen_by(&s, &kid) == ["Children/Bluey.mp4", "Children/Peppa.mp4"]
    });
    assert!(as_who(&s, &kid, "/").contains(">Children<"));
    assert_eq!(get_as(&s, &kid, "/watch/Children/Bluey.mp4").status(), 200);

    // A new folder that takes the old name is not the child's.
    let (status, said) = change(&s, "/api/folders", &json!({"path": "Kids"}));
    assert_eq!(status, 201, "{said}");
    let made = s.media().join(".Scary.mp4");
    make_mp4(&made, 3);
    std::fs::rename(&made, s.media().join("Kids/Scary.mp4")).unwrap();
    s.wait_until(30, "the new video to be read", || {
        s.video_paths().contains(&"Kids/Scary.mp4".to_string())
    });
    assert_eq!(
        seen_by(&s, &kid),
        ["Children/Bluey.mp4", "Children/Peppa.mp4"]
    );
    assert_eq!(get_as(&s, &kid, "/watch/Kids/Scary.mp4").status(), 404);
    assert!(!as_who(&s, &kid, "/").contains(">Kids<"));

    // Moved into another folder, it follows again; and it is on disk.
    change(&s, "/api/folders", &json!({"path": "Family"}));
    let (status, said) = change(
        &s,
        "/api/videos/Children/rename",
        &json!({"to": "Family/Children"}),
    );
    assert_eq!(status, 200, "{said}");
    let d = s.stop();
    let saved = std::fs::read_to_string(d.path().join("media/.pimedia/profiles.json")).unwrap();
    assert!(saved.contains("Family/Children"), "{saved}");
    let s = Server::start_in(d, &[]);
    s.wait_until(10, "the videos to be read", || s.video_paths().len() == 4);
    assert_eq!(
        s.json("/api/profiles")[0]["folders"],
        json!(["Family/Children"])
    );
    let theirs = ["Family/Children/Bluey.mp4", "Family/Children/Peppa.mp4"];
    assert_eq!(seen_by(&s, &kid), theirs);
}

/// An MP4 whose picture is big enough to be worth smaller versions, with
/// two sound tracks (so `/audio/1/` has one to put first).
fn two_tracks(p: &std::path::Path) {
    #[rustfmt::skip]
    let opts = [
        "-map", "0:v", "-map", "1:a", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-movflags", "+faststart",
    ];
    make_clip(p, 3, &opts);
}

/// A request from the browser holding `cookie`: its status.
fn status_as(s: &Server, cookie: &str, method: &str, path: &str, body: Option<&Value>) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s
        .client()
        .request(method, s.url(path))
        .header("cookie", cookie)
        .header("accept", "application/json");
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().unwrap().status().as_u16()
}

#[test]
fn a_limited_profile_gets_404_from_every_route_that_names_another_folders_video() {
    let d = media_with(&[
        ("Kids/Bluey.mp4", &two_tracks),
        ("Films/Adult.mp4", &two_tracks),
    ]);
    let media = d.path().join("media");
    std::fs::create_dir_all(media.join("Films/Cartoons")).unwrap();
    for p in ["Kids/Bluey.en.vtt", "Films/Adult.en.vtt"] {
        std::fs::write(media.join(p), "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n").unwrap();
    }
    let s = Server::start_in(d, &["--versions", "audio"]);
    // Each with its poster and its audio version made.
    let mut thumbs = std::collections::HashMap::new();
    s.wait_until(120, "posters and audio versions", || {
        let all = s.json("/api/videos");
        let all = all.as_array().unwrap();
        thumbs = all
            .iter()
            .filter_map(|v| {
                Some((
                    v["path"].as_str()?.to_string(),
                    v["thumb"].as_str()?.to_string(),
                ))
            })
            .collect();
        let audio_ready = all
            .iter()
            .all(|v| v["versions"].to_string().contains(r#""state":"ready""#));
        all.len() == 2 && thumbs.len() == 2 && audio_ready
    });
    let (_, kids) = post(
        &s,
        "/api/profiles",
        &json!({"name": "Kids", "folders": ["Kids", "Films/Cartoons"]}),
        None,
    );
    let (_, grown) = post(&s, "/api/profiles", &json!({"name": "Anna"}), None);
    let kid = chosen(&s, kids["id"].as_u64().unwrap());

    // Every route that names a library path, for the child's own video
    // (`mine`) and another folder's (`404`): as a GET and a HEAD.
    for (video, mine) in [("Kids/Bluey", true), ("Films/Adult", false)] {
        let want = |own: u16| if mine { own } else { 404 };
        let reads = [
            format!("/watch/{video}.mp4"),
            format!("/download/{video}.mp4"),
            format!("/download/{video}.mp4?version=audio"),
            format!("/download/{video}.en.vtt"),
            format!("/listen/{video}.mp4.mp3"),
            format!("/audio/1/{video}.mp4"),
            format!("/api/positions/{video}.mp4"),
            thumbs[&format!("{video}.mp4")].clone(),
        ];
        for path in &reads {
            for method in ["GET", "HEAD"] {
                let status = status_as(&s, &kid, method, path, None);
                assert_eq!(status, want(200), "{method} {path}");
            }
        }
        let at = json!({"position": 1.0, "duration": 3.0});
        let put = status_as(
            &s,
            &kid,
            "PUT",
            &format!("/api/positions/{video}.mp4"),
            Some(&at),
        );
        assert_eq!(put, want(200), "PUT /api/positions/{video}.mp4");
        // Changes: not the child's to make (403) where it may look at
        // all; elsewhere nothing is there.
        for (action, body) in [
            ("rename", json!({"to": "Gone"})),
            ("delete", json!({})),
            ("versions", json!({"name": "360p"})),
            ("versions/audio/delete", json!({})),
        ] {
            let path = format!("/api/videos/{video}.mp4/{action}");
            let status = status_as(&s, &kid, "POST", &path, Some(&body));
            assert_eq!(status, want(403), "POST {path}");
        }
        // A player's failure names a path too.
        let failed = json!({"plays": {}, "screen": [1920, 1080], "player": true, "failed": format!("{video}.mp4")});
        let status = status_as(&s, &kid, "POST", "/api/devices/me", Some(&failed));
        assert_eq!(status, want(200), "a failure of {video}.mp4");
        // `/videos/` is the household's, as nginx serves it (README).
        let status = status_as(&s, &kid, "GET", &format!("/videos/{video}.mp4"), None);
        assert_eq!(status, 200, "/videos/{video}.mp4");
    }
    // The folder on the way to Films/Cartoons shows none of Films' posters.
    let page = as_who(&s, &kid, "/");
    assert!(page.contains(">Films<"), "{page}");
    assert!(page.contains(&thumbs["Kids/Bluey.mp4"]), "{page}");
    assert!(!page.contains(&thumbs["Films/Adult.mp4"]), "{page}");
    // Another folder's video is not there, in the same words as a
    // missing one; the grown-up still reaches it.
    let (_, missing) = s.text("/download/Films/Nothing.mp4");
    let r = get_as(&s, &kid, "/download/Films/Adult.mp4");
    assert_eq!(r.text().unwrap(), missing);
    let anna = chosen(&s, grown["id"].as_u64().unwrap());
    assert_eq!(get_as(&s, &anna, "/download/Films/Adult.mp4").status(), 200);
    // Nor do its jobs show where the child looks.
    let jobs = as_who(&s, &kid, "/api/jobs");
    assert!(!jobs.contains("Films/"), "{jobs}");
    assert!(jobs.contains("Kids/Bluey.mp4"), "{jobs}");
    assert!(s.media().join("Films/Adult.mp4").is_file());
}
