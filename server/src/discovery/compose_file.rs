//! Format-preserving edits of the `image:` of one service in a compose file (or its `.env`).
//!
//! Reading follows compose: with several `-f` files the last one that sets
//! `services.<svc>.image` wins, and `${VAR}` references resolve from the environment first,
//! then the project's `.env`. An edit is a text splice at the exact bytes of one YAML scalar
//! (located by a real parser, and checked by parsing the result again), so comments, key
//! order, quoting, anchors and blank lines stay as they were. Anything that cannot be changed
//! without changing something else is refused with a [`Refusal`] that says why.
//!
//! The flow for a caller: [`plan_image_change`] or [`plan_tag_change`] gives an [`ImageEdit`]
//! (nothing is written yet; its `diff` goes into the revision record), [`ImageEdit::apply`]
//! writes it atomically, [`ImageEdit::revert`] puts the old value back. All of it is
//! blocking file I/O: call it from async code through `spawn_blocking`.

mod diff;
mod dotenv;
mod edit;
mod locate;
mod plan;
mod variables;
mod yaml;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use edit::{EditTarget, ImageEdit, write_atomically};
pub use plan::{
    ServiceImage, check_compose_file, plan_image_change, plan_tag_change, read_service_image,
    read_service_images,
};
pub use variables::Interpolation;

/// The compose project an edit is made in: its `-f` files in order, the project directory
/// (where `.env` is read from), and the environment compose would see, which overrides `.env`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComposeProject {
    pub files: Vec<PathBuf>,
    pub project_dir: PathBuf,
    pub environment: BTreeMap<String, String>,
}

impl ComposeProject {
    /// The project directory defaults to the first file's directory, as in compose.
    pub fn new(files: Vec<PathBuf>) -> Self {
        let project_dir = files
            .first()
            .and_then(|file| file.parent())
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned);
        Self {
            files,
            project_dir,
            environment: BTreeMap::new(),
        }
    }

    pub fn with_project_dir(mut self, project_dir: impl Into<PathBuf>) -> Self {
        self.project_dir = project_dir.into();
        self
    }

    pub fn with_environment(mut self, environment: BTreeMap<String, String>) -> Self {
        self.environment = environment;
        self
    }

    pub fn env_file(&self) -> PathBuf {
        self.project_dir.join(".env")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeFileError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid YAML", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: yaml_rust2::ScanError,
    },
    #[error("{} has no `services` mapping, so it is not a compose file", path.display())]
    Check { path: PathBuf },
    #[error("service `{service}` is not defined in {}", list(files))]
    FindService {
        service: String,
        files: Vec<PathBuf>,
    },
    #[error("cannot resolve the image of service `{service}` in {}: {reason}", path.display())]
    Resolve {
        path: PathBuf,
        service: String,
        reason: String,
    },
    #[error("cannot change the image of service `{service}` in {}: {reason}", path.display())]
    Plan {
        path: PathBuf,
        service: String,
        reason: Refusal,
    },
    /// Someone else changed the very value an edit would write or put back.
    #[error(
        "{target} in {} is now {found:?}, not {expected:?} as Berth left it; it was changed by someone else and was not overwritten",
        path.display()
    )]
    ValueChanged {
        path: PathBuf,
        target: String,
        expected: String,
        found: String,
    },
    #[error("cannot write {} ({step})", path.display())]
    Write {
        path: PathBuf,
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
}

fn list(files: &[PathBuf]) -> String {
    let mut out = String::new();
    for (index, file) in files.iter().enumerate() {
        let separator = if index == 0 { "" } else { ", " };
        let _ = write!(out, "{separator}{}", file.display());
    }
    out
}

/// Why an image cannot be changed safely. Each says what is in the way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the service sets no `image:` (it is built, or inherits it through `extends:`)")]
    NoImage,
    #[error(
        "`image:` is an alias (`*{anchor}`); changing the anchored value would change every service that uses it"
    )]
    ImageIsAlias { anchor: String },
    #[error(
        "`image:` carries an anchor that `*{anchor}` uses elsewhere; changing it would change that too"
    )]
    AnchoredImageShared { anchor: String },
    #[error("the image is inherited through `<<: *{anchor}`, which {} also use(s); give the service its own `image:`", users.join(", "))]
    SharedMergeAnchor { anchor: String, users: Vec<String> },
    #[error("the whole service definition is an alias (`*{anchor}`)")]
    ServiceIsAlias { anchor: String },
    #[error("a `<<:` merge key does not refer to anchored mappings")]
    MergeMalformed,
    #[error("`{key}` appears more than once in the same mapping")]
    DuplicateKey { key: String },
    #[error("`image:` is not a text value")]
    ImageNotText,
    #[error("`image:` is a `|` or `>` block scalar")]
    BlockScalar,
    #[error("`image:` spans several lines")]
    MultiLineScalar,
    #[error(
        "the image `{raw}` mixes variables into other text; only a whole `${{VAR}}`, or `repository:${{TAG}}`, can be edited"
    )]
    MixedVariables { raw: String },
    #[error(
        "`{variable}` is set in the environment, which overrides `.env`; editing `.env` would change nothing"
    )]
    OverriddenByEnvironment { variable: String },
    #[error("`{variable}` in `.env` is built from other variables")]
    EnvValueInterpolated { variable: String },
    #[error("`{variable}` in `.env` is a quoted value over several lines")]
    EnvValueMultiLine { variable: String },
    #[error(
        "the compose file fixes the repository to `{repository}` and `${{{variable}}}` holds only the tag, so `{new_image}` cannot be set"
    )]
    RepositoryFixed {
        repository: String,
        variable: String,
        new_image: String,
    },
    #[error("the image `{image}` is pinned by digest; changing its tag would not change what runs")]
    DigestPinned { image: String },
    #[error("`{image}` is not an image reference Berth will write")]
    InvalidImage { image: String },
    #[error("`{tag}` is not a valid tag")]
    InvalidTag { tag: String },
    #[error(
        "the edited file would not parse back to the same document with only the image changed"
    )]
    SpliceUnverified,
}
