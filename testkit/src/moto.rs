//! `moto_server` (PyPI moto[server]), the AWS API double: ECR's `GetAuthorizationToken`,
//! `DescribeImages` and STS `AssumeRole` as the real aws-sdk-ecr calls them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::component::{Component, require};

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// `None` (after saying why) when moto is not installed outside CI; a failure under CI.
    pub fn start() -> Option<Moto> {
        if !require(&[Component::MotoServer]) {
            return None;
        }
        let port = crate::free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto { child, port })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The env file's AWS keys that point the SDK at this server.
    pub fn aws_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
        ]
    }
}

/// The `expiresAt` of moto's ECR tokens: `time.mktime(datetime(2015, 1, 1))`, midnight in
/// the server's local zone, which is the test process's too.
pub fn token_expiry() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Local
        .with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid local time")
        .with_timezone(&chrono::Utc)
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}
