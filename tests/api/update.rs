//! `holdfast update`, end to end: a copy of the real binary updates itself from a release
//! source this test serves on loopback, refuses every bundle it must refuse without changing
//! anything, and rolls back.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::helpers::{Run, signer};

const TARGET: &str = "x86_64-unknown-linux-gnu";

/// A site: an installed copy of the holdfast binary in its own directory.
struct Site {
    home: tempfile::TempDir,
    binary: PathBuf,
}

impl Site {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let bin = home.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let binary = bin.join("holdfast");
        std::fs::copy(env!("CARGO_BIN_EXE_holdfast"), &binary).unwrap();
        // The debug build carries hundreds of MiB of debug information a release never has;
        // without it bundles are made and checked in a fraction of the time.
        let stripped = Command::new("strip").arg(&binary).status();
        assert!(
            stripped.is_ok_and(|s| s.success()),
            "strip (binutils) is needed"
        );
        Self { home, binary }
    }

    fn run(&self, args: &[&str], update_url: Option<&str>) -> Run {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .args(args);
        if let Some(url) = update_url {
            cmd.env("HOLDFAST_UPDATE_URL", url);
        }
        Run::from(cmd.output().unwrap())
    }

    fn previous(&self) -> PathBuf {
        self.binary.with_file_name("holdfast.previous")
    }
}

fn sha256(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// Signs `binary` as release `version` for `target` into `dir` with `key`, adding it to the
/// release manifest there; returns the bundle.
fn sign(key: &Path, binary: &Path, version: &str, target: &str, dir: &Path) -> PathBuf {
    let manifest = dir.join("manifest.json");
    signer(&[
        "sign-release",
        "--key",
        key.to_str().unwrap(),
        "--binary",
        binary.to_str().unwrap(),
        "--release-version",
        version,
        "--target",
        target,
        "--out",
        dir.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
    ])
    .assert_ok();
    dir.join(format!("holdfast-{version}-{target}.tar.gz"))
}

fn demo_release_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-release.key")
}

/// Serves the files of `dir` over HTTP on loopback, one request per connection, until the
/// test ends; returns the base URL.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let response = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    [head.into_bytes(), body].concat()
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    url
}

#[test]
fn a_signed_release_from_the_source_is_installed_and_rolled_back_and_bad_bundles_change_nothing() {
    let site = Site::new();
    let original = sha256(&site.binary);
    let work = tempfile::tempdir().unwrap();
    // The release: the same program with a few bytes of its own, so that it can be told apart.
    let release_binary = work.path().join("holdfast");
    let mut bytes = std::fs::read(&site.binary).unwrap();
    bytes.extend_from_slice(b"\nrelease 0.2.0\n");
    std::fs::write(&release_binary, &bytes).unwrap();
    let released = sha256(&release_binary);
    let older_binary = work.path().join("holdfast-older");
    bytes.extend_from_slice(b"an older one\n");
    std::fs::write(&older_binary, &bytes).unwrap();

    let source = work.path().join("releases");
    std::fs::create_dir(&source).unwrap();
    let good = sign(
        &demo_release_key(),
        &release_binary,
        "0.2.0",
        TARGET,
        &source,
    );
    let url = format!("{}/manifest.json", serve(source.clone()));

    let refusals = bad_bundles(work.path(), &good, &release_binary, &older_binary);
    for (bundle, code) in &refusals {
        let run = site.run(
            &["update", "apply", "--file", bundle.to_str().unwrap()],
            None,
        );
        let line = run.assert_refused();
        assert!(line.contains(code), "{code}: {line}");
        assert!(line.contains("nothing was changed"), "{line}");
        assert_eq!(sha256(&site.binary), original, "{code}");
        assert!(!site.previous().exists(), "{code}");
    }

    // The source offers 0.2.0: check says so, apply installs it and keeps this binary.
    let check = site
        .run(&["update", "check", "--json"], Some(&url))
        .assert_ok()
        .json();
    assert_eq!(check["available"], "0.2.0");
    assert_eq!(check["update_available"], true);
    let applied = site.run(&["update", "apply"], Some(&url));
    assert!(
        applied.assert_ok().stdout.contains("to 0.2.0"),
        "{}",
        applied.stdout
    );
    assert_eq!(sha256(&site.binary), released);
    assert_eq!(sha256(&site.previous()), original);
    site.run(&["version"], None).assert_ok();

    // Applying it again changes nothing (the kept binary stays the one to roll back to).
    let again = site.run(&["update", "apply", "--file", good.to_str().unwrap()], None);
    assert!(again.assert_ok().stdout.contains("nothing was changed"));
    assert_eq!(sha256(&site.previous()), original);

    // Rollback puts the original back; a second one undoes the first.
    site.run(&["update", "apply", "--rollback"], None)
        .assert_ok();
    assert_eq!(sha256(&site.binary), original);
    assert_eq!(sha256(&site.previous()), released);
    site.run(&["version"], None).assert_ok();
    site.run(&["update", "apply", "--rollback"], None)
        .assert_ok();
    assert_eq!(sha256(&site.binary), released);

    // A downgrade is installed when asked for.
    let older = refusals[3].0.to_str().unwrap();
    site.run(
        &["update", "apply", "--file", older, "--allow-downgrade"],
        None,
    )
    .assert_ok();
    assert_eq!(sha256(&site.binary), sha256(&older_binary));
    assert_eq!(sha256(&site.previous()), released);
}

#[test]
fn without_a_release_source_or_a_previous_binary_update_says_why() {
    let site = Site::new();
    let line = site
        .run(&["update", "check"], None)
        .assert_refused()
        .to_owned();
    assert!(line.contains("no_release_source"), "{line}");
    let line = site
        .run(&["update", "apply", "--rollback"], None)
        .assert_refused()
        .to_owned();
    assert!(line.contains("no_previous"), "{line}");
    let url = format!(
        "{}/missing/manifest.json",
        serve(PathBuf::from("/nonexistent"))
    );
    let line = site
        .run(&["update", "check"], Some(&url))
        .assert_refused()
        .to_owned();
    assert!(line.contains("release_source"), "{line}");
}

/// Bundles to refuse, each with the stable code of its refusal.
fn bad_bundles(
    work: &Path,
    good: &Path,
    release_binary: &Path,
    older_binary: &Path,
) -> Vec<(PathBuf, &'static str)> {
    let elsewhere = work.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let other_key = work.join("other.key");
    signer(&["keygen", "--out", other_key.to_str().unwrap()]).assert_ok();
    let mut tampered_bytes = std::fs::read(good).unwrap();
    let middle = tampered_bytes.len() / 2;
    tampered_bytes[middle] ^= 0x01;
    let tampered = work.join("tampered.tar.gz");
    std::fs::write(&tampered, tampered_bytes).unwrap();
    vec![
        (
            sign(&other_key, release_binary, "0.2.0", TARGET, &elsewhere),
            "bundle_bad_signature",
        ),
        (tampered, "bundle_bad_signature"),
        (unsigned_copy(good, work), "bundle_unsigned"),
        (
            sign(
                &demo_release_key(),
                older_binary,
                "0.0.1",
                TARGET,
                &elsewhere,
            ),
            "downgrade",
        ),
        (
            sign(
                &demo_release_key(),
                release_binary,
                "0.3.0",
                "aarch64-unknown-linux-gnu",
                &elsewhere,
            ),
            "wrong_target",
        ),
    ]
}

/// The same archive without its signature: a plain `.tar.gz` of the same two files.
fn unsigned_copy(bundle: &Path, dir: &Path) -> PathBuf {
    use flate2::read::GzDecoder;
    use flate2::write::GzEncoder;
    let mut plain = Vec::new();
    let mut archive = tar::Archive::new(GzDecoder::new(std::fs::File::open(bundle).unwrap()));
    let mut repacked = tar::Builder::new(GzEncoder::new(&mut plain, flate2::Compression::fast()));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut head = entry.header().clone();
        let name = entry.path().unwrap().into_owned();
        repacked.append_data(&mut head, name, &mut entry).unwrap();
    }
    repacked.into_inner().unwrap().finish().unwrap();
    let path = dir.join("unsigned.tar.gz");
    std::fs::write(&path, plain).unwrap();
    path
}
