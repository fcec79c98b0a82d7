//! The Valkey configuration the VMs' cloud-init writes, run by a real valkey-server (the bench's,
//! `VALKEY_SERVER` in .testbed/env): the primary and a replica start from it, the password is
//! required, append-only is on, and the replica replicates with `masterauth`.
//! Skips only when `VALKEY_SERVER` is not set (fails then with CI=true).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blackfriday_operator::build::cloud_init_user_data;
use blackfriday_operator::crd::BlackFridayPipelineSpec;
use blackfriday_operator::validate::validate_spec;

const PASSWORD: &str = "t3st-pass";

/// The `content` of /etc/valkey/blackfriday.conf in the user-data, plus what the setup script
/// appends from the Secret disk. The VM's data dir becomes `data_dir` (Valkey enters `dir` while
/// reading the file, so it must exist here).
fn rendered_config(index: i32, data_dir: &std::path::Path) -> String {
    let p = validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap();
    let user_data = cloud_init_user_data(&p, index);
    let cloud: serde_yaml::Value = serde_yaml::from_str(&user_data).expect("user-data is YAML");
    let files = cloud["write_files"].as_sequence().unwrap();
    let conf = files
        .iter()
        .find(|f| f["path"] == "/etc/valkey/blackfriday.conf")
        .unwrap();
    let text = conf["content"].as_str().unwrap();
    assert!(
        text.contains("dir /var/lib/valkey\n"),
        "AOF on the persistent disk: {text}"
    );
    let mut text = text.replace(
        "dir /var/lib/valkey",
        &format!("dir {}", data_dir.display()),
    );
    text.push_str(&format!("requirepass \"{PASSWORD}\"\n"));
    if index > 0 {
        text.push_str(&format!("masterauth \"{PASSWORD}\"\n"));
    }
    text
}

struct Server {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start valkey-server from the rendered config; only the address, port and data dir are
/// overridden (command-line options win over the file), plus where a replica finds the primary.
/// Ready means the process is alive and answers a PING on its port (any reply: NOAUTH is one).
/// A port from `free_port` is free only when it is picked: if the server exits (another
/// program took the port first), it is started again on a new port, and its log says why.
fn start(binary: &str, index: i32, primary_port: Option<u16>) -> Server {
    let mut exits = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("bf-valkey-{}-{index}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("valkey.conf");
        std::fs::write(&conf, rendered_config(index, &dir)).unwrap();
        let log = std::fs::File::create(dir.join("valkey.log")).unwrap();
        let mut cmd = Command::new(binary);
        cmd.arg(&conf)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(primary) = primary_port {
            cmd.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
        }
        let child = cmd.spawn().expect("valkey-server starts");
        let mut server = Server {
            child,
            port,
            _dir: TempDir(dir.clone()),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let text = std::fs::read_to_string(dir.join("valkey.log")).unwrap_or_default();
                exits.push(format!("port {port}: exited {status}:\n{text}"));
                break;
            }
            if answers_ping(port) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "valkey-server did not answer on {port}: {}",
                std::fs::read_to_string(dir.join("valkey.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("valkey-server exited three times:\n{}", exits.join("\n"));
}

/// Does something on `port` answer a RESP PING with a reply line?
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    matches!(BufReader::new(stream).read_line(&mut line), Ok(n) if n > 0)
}

/// One RESP command, its reply as text (bulk strings and arrays flattened, one item per line).
fn command(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    read_reply(&mut reader)
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let line = line.trim_end().to_string();
    match line.chars().next() {
        Some('$') => {
            let len: i64 = line[1..].parse().unwrap();
            if len < 0 {
                return "(nil)".into();
            }
            let mut buf = vec![0u8; len as usize + 2];
            reader.read_exact(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..len as usize]).into_owned()
        }
        Some('*') => {
            let n: i64 = line[1..].parse().unwrap();
            (0..n.max(0))
                .map(|_| read_reply(reader))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => line,
    }
}

fn authed(port: u16, args: &[&str]) -> String {
    // A fresh connection per call: AUTH then the command, in one pipeline.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{PASSWORD}\r\n", PASSWORD.len());
    request.push_str(&format!("*{}\r\n", args.len()));
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_reply(&mut reader), "+OK");
    read_reply(&mut reader)
}

#[test]
fn primary_and_replica_run_from_the_rendered_config() {
    let Ok(binary) = std::env::var("VALKEY_SERVER") else {
        support::missing_bench("no VALKEY_SERVER (start the bench: scripts/testbed/up.sh valkey)");
        return;
    };
    let primary = start(&binary, 0, None);
    // The password is required.
    assert!(
        command(primary.port, &["PING"]).starts_with("-NOAUTH"),
        "requirepass must be on"
    );
    assert_eq!(
        authed(primary.port, &["CONFIG", "GET", "appendonly"]),
        "appendonly\nyes"
    );
    assert!(authed(primary.port, &["INFO", "replication"]).contains("role:master"));

    let replica = start(&binary, 1, Some(primary.port));
    assert_eq!(
        authed(replica.port, &["CONFIG", "GET", "replica-read-only"]),
        "replica-read-only\nyes"
    );
    assert_eq!(authed(primary.port, &["SET", "bf:test", "42"]), "+OK");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let info = authed(replica.port, &["INFO", "replication"]);
        if info.contains("master_link_status:up")
            && authed(replica.port, &["GET", "bf:test"]) == "42"
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica did not sync with masterauth: {info}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Writes go to the primary only.
    assert!(authed(replica.port, &["SET", "x", "1"]).starts_with("-READONLY"));
}

/// The whole user-data passes cloud-init's own schema check (Debian's cloud-init, installed by
/// scripts/setup.d/40-operator.sh). Skips when `cloud-init` is not installed.
#[test]
fn user_data_passes_the_cloud_init_schema() {
    if Command::new("cloud-init")
        .arg("--version")
        .output()
        .is_err()
    {
        support::missing_bench("no cloud-init (apt-get install cloud-init)");
        return;
    }
    let p = validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap();
    for index in [0, 1] {
        let path =
            std::env::temp_dir().join(format!("bf-user-data-{}-{index}.yaml", std::process::id()));
        std::fs::write(&path, cloud_init_user_data(&p, index)).unwrap();
        let out = Command::new("cloud-init")
            .args(["schema", "--config-file"])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.contains("Valid cloud-config"),
            "valkey-{index}: {text}"
        );
    }
}
