//! PROTOCOL §9.10: `serve` refuses to start without a cursor key unless given the explicit
//! insecure development flag, and refuses an admin API on a non-loopback host.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use sync_server::startup::{
    resolve_admin, resolve_cursor_key, CursorKeyChoice, CursorKeyInput, StartupError,
};

#[test]
fn no_cursor_key_and_no_flag_is_refused() {
    assert_eq!(
        resolve_cursor_key(&CursorKeyInput::default()),
        Err(StartupError::NoCursorKey)
    );
    let dev = CursorKeyInput {
        insecure_dev: true,
        ..Default::default()
    };
    assert_eq!(resolve_cursor_key(&dev), Ok(CursorKeyChoice::InsecureDev));
    let given = CursorKeyInput {
        key: Some("k1"),
        insecure_dev: true,
        ..Default::default()
    };
    assert_eq!(
        resolve_cursor_key(&given),
        Ok(CursorKeyChoice::Configured("k1".into())),
        "a real key wins over the flag"
    );
    let empty = CursorKeyInput {
        key: Some(""),
        ..Default::default()
    };
    assert_eq!(
        resolve_cursor_key(&empty),
        Err(StartupError::EmptyCursorKey)
    );
}

#[test]
fn the_cursor_key_can_come_from_a_file() {
    let path = std::env::temp_dir().join(format!("sync-server-key-{}", std::process::id()));
    std::fs::write(&path, "file-key\n").unwrap();
    let from_file = CursorKeyInput {
        key_file: Some(&path),
        ..Default::default()
    };
    assert_eq!(
        resolve_cursor_key(&from_file),
        Ok(CursorKeyChoice::Configured("file-key".into()))
    );
    let both = CursorKeyInput {
        key: Some("k"),
        key_file: Some(&path),
        ..Default::default()
    };
    assert_eq!(resolve_cursor_key(&both), Err(StartupError::TwoCursorKeys));
    std::fs::remove_file(&path).unwrap();
    let missing = CursorKeyInput {
        key_file: Some(Path::new("/nonexistent/sync-key")),
        ..Default::default()
    };
    assert!(matches!(
        resolve_cursor_key(&missing),
        Err(StartupError::CursorKeyFile(_))
    ));
}

#[test]
fn admin_is_off_by_default_loopback_only_and_token_protected() {
    assert!(resolve_admin(false, "0.0.0.0", None, &[])
        .unwrap()
        .is_none());
    for host in ["0.0.0.0", "10.1.2.3", "example.com", "::"] {
        assert!(
            matches!(
                resolve_admin(true, host, None, &[]),
                Err(StartupError::AdminNotLoopback(_))
            ),
            "{host}"
        );
    }
    let generated = resolve_admin(true, "127.0.0.1", None, &[])
        .unwrap()
        .unwrap();
    let token = generated.generated_token.unwrap();
    assert!(token.len() >= 32, "{token}");
    let again = resolve_admin(true, "::1", None, &[]).unwrap().unwrap();
    assert_ne!(again.generated_token.unwrap(), token, "random per start");
    let given = resolve_admin(true, "localhost", Some("a-fixed-test-token-123"), &[])
        .unwrap()
        .unwrap();
    assert!(given.generated_token.is_none());
    assert_eq!(
        resolve_admin(true, "127.0.0.1", Some("short"), &[]).unwrap_err(),
        StartupError::WeakAdminToken
    );
    assert!(matches!(
        resolve_admin(true, "127.0.0.1", None, &["evil".into()]),
        Err(StartupError::BadAdminOrigin(_))
    ));
}

fn serve(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sync-server"));
    cmd.args(["serve", "--db", ":memory:", "--port", "0", "--no-generator"])
        .args(args)
        .env_remove("SYNC_CURSOR_KEY")
        .env_remove("SYNC_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `serve` expecting it to exit on its own; a server that starts instead is killed
/// after 20 s and fails the test. Returns its stderr.
fn refused(args: &[&str]) -> String {
    let mut child = serve(args).stdout(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("serve {args:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "serve {args:?} exited with success");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_binary_refuses_to_start_without_a_cursor_key() {
    let stderr = refused(&[]);
    assert!(stderr.contains("no cursor key"), "{stderr}");
    let stderr = refused(&["--insecure-dev-cursor-key", "--admin", "--host", "0.0.0.0"]);
    assert!(stderr.contains("loopback"), "{stderr}");
}

#[test]
fn the_binary_starts_with_the_insecure_flag_and_logs_it() {
    let mut child = serve(&["--insecure-dev-cursor-key", "--admin"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        let mut seen = String::new();
        while !seen.contains("listening on") {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        seen
    });
    while !reader.is_finished() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let seen = reader.join().unwrap();
    assert!(seen.contains("listening on"), "{seen}");
    assert!(
        seen.contains("token: adm_"),
        "generated admin token printed: {seen}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INSECURE"), "{stderr}");
}
