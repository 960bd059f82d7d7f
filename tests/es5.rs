//! Every script under public/ must parse as ES5: webOS 3 runs Chromium 38,
//! and one newer token (let, =>, a template string) kills the whole script.

use std::path::Path;
use std::process::Command;

#[test]
fn every_public_script_parses_as_es5() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let acorn = root.join("tests/node_modules/acorn/bin/acorn");
    assert!(
        acorn.exists(),
        "acorn is missing: run `npm ci --prefix tests` (tests/run.sh does it)"
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("public")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let out = Command::new("node")
            .arg(&acorn)
            .args(["--ecma5", "--silent"])
            .arg(&path)
            .output()
            .expect("node must be installed");
        assert!(
            out.status.success(),
            "{} is not ES5: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 2, "no scripts found");
}

#[test]
fn the_es5_check_catches_newer_syntax() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let acorn = root.join("tests/node_modules/acorn/bin/acorn");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.js");
    std::fs::write(&f, "var ok = 1;\nlet no = () => `x`;\n").unwrap();
    let out = Command::new("node")
        .arg(&acorn)
        .args(["--ecma5", "--silent"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
