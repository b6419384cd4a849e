//! A webhook receiver on a loopback port: records every delivery and answers 200,
//! or 500 while told to fail.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One POST received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event's `seq`, from the end of `webhook-id`.
    pub event_id: u64,
    /// `webhook-id`.
    pub message_id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

pub struct Receiver {
    pub url: String,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    failing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (deliveries, failing, stop) = (
                Arc::clone(&deliveries),
                Arc::clone(&failing),
                Arc::clone(&stop),
            );
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let status = if failing.load(Ordering::SeqCst) {
                            500
                        } else {
                            200
                        };
                        if let Some(delivery) = serve(stream, status) {
                            deliveries.lock().expect("lock").push(delivery);
                        }
                    }
                }
            })
        };
        Receiver {
            url,
            deliveries,
            failing,
            stop,
            thread: Some(thread),
        }
    }

    /// Answer 500 (`true`) or 200 from now on.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("lock").clone()
    }

    /// The deliveries answered 200.
    pub fn delivered(&self) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(|delivery| delivery.status == 200)
            .collect()
    }

    /// Waits (up to 60 s) until `done` holds for the deliveries so far.
    pub fn wait_until(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if done(&self.deliveries()) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}: {:#?}", self.deliveries());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let address = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/hook");
        let _ = TcpStream::connect(address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request from `stream` and answers `status`.
fn serve(stream: TcpStream, status: u16) -> Option<Delivery> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut headers = HashMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let reason = if status == 200 {
        "OK"
    } else {
        "Internal Server Error"
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    Some(Delivery {
        event_id: headers
            .get("webhook-id")?
            .rsplit('_')
            .next()?
            .parse()
            .ok()?,
        message_id: headers.get("webhook-id")?.clone(),
        timestamp: headers.get("webhook-timestamp")?.clone(),
        signature: headers.get("webhook-signature")?.clone(),
        body: String::from_utf8(body).ok()?,
        status,
    })
}
