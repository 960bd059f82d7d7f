//! The people in the house (issue 33's first part): profiles made,
//! changed and removed through `/api/profiles` against the real binary,
//! with the upload password's rules, clear refusals, and kept across a
//! restart. (The chooser and what each profile keeps of its own are still
//! to come: profiles change nothing else yet.)

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
