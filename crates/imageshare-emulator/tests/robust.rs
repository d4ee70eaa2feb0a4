//! The server under stalled and idle clients: header and idle timeouts close them while
//! other clients are served, the connection cap makes clients wait rather than fail, a
//! body that never comes is answered 408, and the binary's accept loop does not spin when
//! the process is out of file descriptors.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use imageshare_core::time::now_unix;
use imageshare_emulator::{Emulator, ServerOptions, World};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER: Duration = Duration::from_millis(400);
const IDLE: Duration = Duration::from_millis(1500);

async fn emulator(max_connections: usize) -> Emulator {
    let opts = ServerOptions::default()
        .header_timeout(HEADER)
        .idle_timeout(IDLE)
        .max_connections(max_connections);
    Emulator::start_with(World::example(), opts).await.unwrap()
}

/// Reads until the server closes the connection; the time that took, or `None` after
/// `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf))
            .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn signed_call_ok(emu: &Emulator) -> bool {
    let a = common::tencent(
        emu,
        "AKIDEMU0000000000000000000000001",
        "emu-tencent-secret-1",
        now_unix(),
        false,
    )
    .await;
    a.status == 200 && common::tc_code(&a).is_none()
}

#[tokio::test]
async fn two_hundred_stalled_connections_are_closed_while_others_are_served() {
    let emu = emulator(1024).await;
    let start = Instant::now();
    let mut stalled = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(emu.addr()).await.unwrap();
        // Half send nothing, half a head cut short (a slow-header client).
        if i % 2 == 1 {
            s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await
                .unwrap();
        }
        stalled.push(s);
    }
    let served = Instant::now();
    assert!(signed_call_ok(&emu).await, "another client is served");
    assert!(
        served.elapsed() < HEADER,
        "served at once, not after the stalled clients: {:?}",
        served.elapsed()
    );
    for (i, s) in stalled.iter_mut().enumerate() {
        let limit = (HEADER * 4).saturating_sub(start.elapsed()) + HEADER;
        assert!(
            closed_within(s, limit).await.is_some(),
            "stalled connection {i} still open after {:?}",
            start.elapsed()
        );
    }
    let all = start.elapsed();
    assert!(all >= HEADER, "closed before the timeout: {all:?}");
    assert!(all < HEADER * 5, "closed long after the timeout: {all:?}");
    assert!(signed_call_ok(&emu).await, "and the server still serves");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_lives_for_the_idle_timeout() {
    let emu = emulator(1024).await;
    let mut s = TcpStream::connect(emu.addr()).await.unwrap();
    let request = b"GET /_imageshare/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    s.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Idle: not closed after the header timeout ...
    assert_eq!(closed_within(&mut s, HEADER * 2).await, None);
    // ... and a second request on it is served.
    s.write_all(request).await.unwrap();
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let closed = closed_within(&mut s, IDLE * 3).await;
    let after = answered.elapsed();
    assert!(closed.is_some(), "idle connection never closed");
    assert!(
        after >= IDLE - Duration::from_millis(100),
        "closed early: {after:?}"
    );
}

#[tokio::test]
async fn over_the_cap_clients_wait_for_a_free_connection() {
    let emu = emulator(2).await;
    let _a = TcpStream::connect(emu.addr()).await.unwrap();
    let _b = TcpStream::connect(emu.addr()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    assert!(signed_call_ok(&emu).await, "served, not refused");
    let waited = start.elapsed();
    assert!(
        waited >= HEADER / 2,
        "served before a slot was freed: {waited:?}"
    );
    assert!(waited < HEADER * 5, "{waited:?}");
}

#[tokio::test]
async fn a_body_that_never_comes_is_answered_408() {
    let emu = emulator(1024).await;
    let mut s = TcpStream::connect(emu.addr()).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(HEADER * 4, s.read(&mut buf))
        .await
        .expect("answered in time")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

// ------------------------------------------------------------------ out of descriptors

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User + system CPU time of a process, in clock ticks (`/proc/PID/stat` fields 14, 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_accept_loop_backs_off_instead_of_spinning() {
    let exe = env!("CARGO_BIN_EXE_imageshare-emulator");
    let Ok(mut child) = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 48 && exec \"{exe}\" serve --header-timeout-ms 1500 --idle-timeout-ms 1500"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        eprintln!("SKIP: no sh to lower the descriptor limit");
        return;
    };
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let _guard = Serve(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let Some(before_connect) = cpu_ticks(pid) else {
        eprintln!("SKIP: no /proc to read the server's CPU time");
        return;
    };
    // More connections than descriptors: accept fails with EMFILE for the rest.
    let mut held = Vec::new();
    for _ in 0..80 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = cpu_ticks(pid).unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let spent = cpu_ticks(pid).unwrap() - t0;
    // A spinning loop burns ~100 ticks a second (USER_HZ = 100); the back-off, a few.
    assert!(
        spent < 30,
        "the accept loop burned {spent} ticks in 1 s (before: {before_connect})"
    );
    // Once the stalled clients time out, descriptors are free and a request is served.
    drop(held);
    let answer = reqwest::Client::new()
        .get(format!("{url}/_imageshare/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served after descriptors are freed");
    assert_eq!(answer.status().as_u16(), 200);
}
