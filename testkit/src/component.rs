//! Which real components a test needs, and what happens when one is missing: under
//! `CI=true` the test fails; elsewhere it is skipped with the command that installs it.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    DockerRegistry,
    Skopeo,
    BusyboxStatic,
    Docker,
    /// `docker compose` (v2, the CLI plugin scripts/setup.sh installs).
    Compose,
    Chromium,
    Chromedriver,
    Trivy,
    /// `moto_server` (PyPI moto[server]): the AWS API double for ECR.
    MotoServer,
}

impl Component {
    pub fn program(self) -> &'static str {
        match self {
            Component::DockerRegistry => "docker-registry",
            Component::Skopeo => "skopeo",
            Component::BusyboxStatic => "busybox",
            Component::Docker => "docker",
            Component::Compose => "docker compose",
            Component::Chromium => "chromium",
            Component::Chromedriver => "chromedriver",
            Component::Trivy => "trivy",
            Component::MotoServer => "moto_server",
        }
    }

    /// Where the program is, if it is installed.
    pub fn locate(self) -> Option<PathBuf> {
        if self == Component::BusyboxStatic {
            // The static build is the one that runs in a FROM-scratch image.
            let path = PathBuf::from("/bin/busybox");
            return is_static_busybox(&path).then_some(path);
        }
        if self == Component::Compose {
            let works = std::process::Command::new("docker")
                .args(["compose", "version"])
                .output()
                .is_ok_and(|output| output.status.success());
            return works.then(|| PathBuf::from("docker"));
        }
        find_on_path(self.program())
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn is_static_busybox(path: &std::path::Path) -> bool {
    // busybox-static replaces /bin/busybox with a binary that has no program interpreter.
    std::fs::read(path)
        .map(|bytes| {
            bytes.starts_with(b"\x7fELF") && !bytes.windows(16).any(|w| w == b"/lib64/ld-linux")
        })
        .unwrap_or(false)
}

/// Check that every component is present. Returns `false` (after printing why) when the
/// test should be skipped; panics under `CI=true`, where a missing component is a failure.
pub fn require(components: &[Component]) -> bool {
    let missing: Vec<&str> = components
        .iter()
        .filter(|component| component.locate().is_none())
        .map(|component| component.program())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "missing test component(s): {}; install them with scripts/setup.sh",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{message} (CI=true: a missing component fails the run)");
    }
    eprintln!("skipped: {message}");
    false
}
