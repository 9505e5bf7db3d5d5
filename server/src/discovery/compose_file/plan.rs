//! Reading a service's effective image across the project's compose files, and planning the
//! edit that changes it: in the compose file that defines it, or in `.env` when it comes from
//! a variable.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::locate::{InFile, Located, service_image};
use super::variables::{self, Interpolation};
use super::yaml::{self, Document, Node};
use super::{ComposeFileError, ComposeProject, EditTarget, ImageEdit, Refusal, diff, dotenv};

/// What compose will run for a service, and where that is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceImage {
    pub service: String,
    /// The compose file whose `image:` is the effective one (the last `-f` file that sets it).
    pub file: PathBuf,
    /// The value as written, before interpolation.
    pub raw: String,
    pub interpolation: Interpolation,
    /// The image after interpolation from the environment, then `.env`.
    pub resolved: String,
    /// Why a change of this image would be refused, when that is known before the new image
    /// is: an alias, a shared anchor, mixed variables, a variable the environment overrides.
    pub blocked: Option<Refusal>,
}

struct Loaded {
    path: PathBuf,
    text: String,
    document: Document,
}

struct Effective<'l> {
    loaded: &'l Loaded,
    located: Located<'l>,
}

fn load(path: &Path) -> Result<Loaded, ComposeFileError> {
    let text = fs::read_to_string(path).map_err(|source| ComposeFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let document = yaml::parse(&text).map_err(|source| ComposeFileError::Parse {
        path: path.to_owned(),
        source,
    })?;
    Ok(Loaded {
        path: path.to_owned(),
        text,
        document,
    })
}

/// Does the file parse as YAML and have a `services` mapping? (For crash recovery: a file
/// Berth may have been writing is either intact or must be restored.)
pub fn check_compose_file(path: &Path) -> Result<(), ComposeFileError> {
    match load(path)?.document.root.get("services") {
        Ok(Some(Node::Mapping { .. })) => Ok(()),
        _ => Err(ComposeFileError::Check {
            path: path.to_owned(),
        }),
    }
}

fn read_env_file(path: &Path) -> Result<Option<String>, ComposeFileError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ComposeFileError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The last file that sets the service's image wins, as when compose merges `-f` files.
fn effective<'l>(files: &'l [Loaded], service: &str) -> Result<Effective<'l>, ComposeFileError> {
    let mut defined_in = None;
    for loaded in files.iter().rev() {
        match service_image(&loaded.document, &loaded.text, service) {
            InFile::NoService => {}
            InFile::NoImage => defined_in = defined_in.or(Some(&loaded.path)),
            InFile::Image(located) => return Ok(Effective { loaded, located }),
            InFile::Unreadable(reason) => return Err(refuse(&loaded.path, service, reason)),
        }
    }
    Err(match defined_in {
        Some(path) => refuse(path, service, Refusal::NoImage),
        None => ComposeFileError::FindService {
            service: service.to_owned(),
            files: files.iter().map(|loaded| loaded.path.clone()).collect(),
        },
    })
}

fn refuse(path: &Path, service: &str, reason: Refusal) -> ComposeFileError {
    ComposeFileError::Plan {
        path: path.to_owned(),
        service: service.to_owned(),
        reason,
    }
}

/// Compose's lookup: the environment first, then `.env` (whose values may use the
/// environment's variables).
fn lookup<'a>(
    project: &'a ComposeProject,
    env_text: Option<&'a str>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        if let Some(value) = project.environment.get(name) {
            return Some(value.clone());
        }
        let (value, interpolated) = dotenv::value(env_text?, name)?;
        if interpolated && value.contains('$') {
            let environment = |inner: &str| project.environment.get(inner).cloned();
            return Some(variables::resolve(&value, &environment).unwrap_or(value));
        }
        Some(value)
    }
}

fn describe(
    project: &ComposeProject,
    service: &str,
    found: &Effective<'_>,
    env_text: Option<&str>,
) -> Result<ServiceImage, ComposeFileError> {
    let raw = found.located.scalar.value.clone();
    let file = found.loaded.path.clone();
    let resolved = variables::resolve(&raw, &lookup(project, env_text)).map_err(|reason| {
        ComposeFileError::Resolve {
            path: file.clone(),
            service: service.to_owned(),
            reason,
        }
    })?;
    let interpolation = variables::classify(&raw);
    let blocked = found
        .located
        .blocked
        .clone()
        .or_else(|| match &interpolation {
            Interpolation::Mixed => Some(Refusal::MixedVariables { raw: raw.clone() }),
            Interpolation::Variable { name } | Interpolation::TagVariable { name, .. }
                if project.environment.contains_key(name) =>
            {
                Some(Refusal::OverriddenByEnvironment {
                    variable: name.clone(),
                })
            }
            _ => None,
        });
    Ok(ServiceImage {
        service: service.to_owned(),
        file,
        raw,
        interpolation,
        resolved,
        blocked,
    })
}

fn load_project(
    project: &ComposeProject,
) -> Result<(Vec<Loaded>, Option<String>), ComposeFileError> {
    let files = project
        .files
        .iter()
        .map(|path| load(path))
        .collect::<Result<_, _>>()?;
    Ok((files, read_env_file(&project.env_file())?))
}

/// Which image the service runs, from which file, and whether it comes from a variable.
pub fn read_service_image(
    project: &ComposeProject,
    service: &str,
) -> Result<ServiceImage, ComposeFileError> {
    let (files, env_text) = load_project(project)?;
    describe(
        project,
        service,
        &effective(&files, service)?,
        env_text.as_deref(),
    )
}

/// [`read_service_image`] for several services of one project, reading and parsing its
/// files once: a check cycle asks about every service, often fifty to a file. The outer
/// error is the project's (a file that cannot be read or parsed), the inner ones each
/// service's.
pub fn read_service_images(
    project: &ComposeProject,
    services: &[String],
) -> Result<Vec<Result<ServiceImage, ComposeFileError>>, ComposeFileError> {
    let (files, env_text) = load_project(project)?;
    Ok(services
        .iter()
        .map(|service| {
            describe(
                project,
                service,
                &effective(&files, service)?,
                env_text.as_deref(),
            )
        })
        .collect())
}

/// Plan setting the service's image to `new_image`. Nothing is written until
/// [`ImageEdit::apply`].
pub fn plan_image_change(
    project: &ComposeProject,
    service: &str,
    new_image: &str,
) -> Result<ImageEdit, ComposeFileError> {
    let (files, env_text) = load_project(project)?;
    let found = effective(&files, service)?;
    let image = describe(project, service, &found, env_text.as_deref())?;
    if !is_valid_image(new_image) {
        let reason = Refusal::InvalidImage {
            image: new_image.to_owned(),
        };
        return Err(refuse(&image.file, service, reason));
    }
    if let Some(reason) = image.blocked.clone() {
        return Err(refuse(&image.file, service, reason));
    }
    let compose_text = &found.loaded.text;
    let env_path = project.env_file();
    let env_value = |name: &str| {
        env_text
            .as_deref()
            .and_then(|text| dotenv::value(text, name))
    };
    // The value the edit writes, and the file text it gives (for the revision's diff only:
    // applying re-reads the file).
    let (path, target, old_value, new_value, old_text, new_text) = match &image.interpolation {
        _ if new_image == image.resolved => (
            image.file.clone(),
            EditTarget::ServiceImage {
                service: service.to_owned(),
            },
            Some(image.raw.clone()),
            image.raw.clone(),
            Some(compose_text.clone()),
            compose_text.clone(),
        ),
        Interpolation::Literal => {
            let new = yaml::splice(
                compose_text,
                &found.loaded.document,
                found.located.scalar,
                new_image,
            )
            .map_err(|reason| refuse(&image.file, service, reason))?;
            (
                image.file.clone(),
                EditTarget::ServiceImage {
                    service: service.to_owned(),
                },
                Some(image.raw.clone()),
                new_image.to_owned(),
                Some(compose_text.clone()),
                new,
            )
        }
        Interpolation::Variable { name } | Interpolation::TagVariable { name, .. } => {
            let value = match &image.interpolation {
                Interpolation::TagVariable { repository, .. } => new_image
                    .strip_prefix(repository.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .filter(|tag| is_valid_tag(tag))
                    .ok_or_else(|| {
                        let reason = Refusal::RepositoryFixed {
                            repository: repository.clone(),
                            variable: name.clone(),
                            new_image: new_image.to_owned(),
                        };
                        refuse(&image.file, service, reason)
                    })?,
                _ => new_image,
            };
            let new = dotenv::set(env_text.as_deref().unwrap_or_default(), name, value)
                .map_err(|reason| refuse(&env_path, service, reason))?;
            (
                env_path.clone(),
                EditTarget::EnvVariable { name: name.clone() },
                env_value(name).map(|(value, _)| value),
                value.to_owned(),
                env_text.clone(),
                new,
            )
        }
        Interpolation::Mixed => {
            return Err(refuse(
                &image.file,
                service,
                Refusal::MixedVariables { raw: image.raw },
            ));
        }
    };
    let also_affected = match &image.interpolation {
        Interpolation::Variable { name } | Interpolation::TagVariable { name, .. }
            if old_value.as_deref() != Some(new_value.as_str()) =>
        {
            services_using_variable(&files, name, service)
        }
        _ => Vec::new(),
    };
    // A `.env` holds secrets beside the image: its diff shows the changed line alone.
    let context = match target {
        EditTarget::ServiceImage { .. } => diff::CONTEXT,
        EditTarget::EnvVariable { .. } => 0,
    };
    let diff = diff::unified(
        &path.display().to_string(),
        old_text.as_deref(),
        &new_text,
        context,
    );
    Ok(ImageEdit {
        service: service.to_owned(),
        path,
        target,
        old_value,
        new_value,
        old_image: image.resolved,
        new_image: new_image.to_owned(),
        diff,
        also_affected,
    })
}

/// Plan changing only the tag of the service's image (the repository stays as resolved).
pub fn plan_tag_change(
    project: &ComposeProject,
    service: &str,
    new_tag: &str,
) -> Result<ImageEdit, ComposeFileError> {
    let image = read_service_image(project, service)?;
    if !is_valid_tag(new_tag) {
        let reason = Refusal::InvalidTag {
            tag: new_tag.to_owned(),
        };
        return Err(refuse(&image.file, service, reason));
    }
    if image.resolved.contains('@') {
        let reason = Refusal::DigestPinned {
            image: image.resolved,
        };
        return Err(refuse(&image.file, service, reason));
    }
    // The tag is after the last `:` of the last path part (`localhost:5000/app` has none).
    let name_start = image.resolved.rfind('/').map_or(0, |slash| slash + 1);
    let repository = match image.resolved[name_start..].rfind(':') {
        Some(colon) => &image.resolved[..name_start + colon],
        None => image.resolved.as_str(),
    };
    plan_image_change(project, service, &format!("{repository}:{new_tag}"))
}

/// The other services whose effective image refers to `variable`.
fn services_using_variable(files: &[Loaded], variable: &str, except: &str) -> Vec<String> {
    let mut names = BTreeSet::new();
    for loaded in files {
        if let Ok(Some(Node::Mapping { entries, .. })) = loaded.document.root.get("services") {
            names.extend(entries.iter().filter_map(|(key, _)| match key {
                Node::Scalar(scalar) if scalar.value != except => Some(scalar.value.clone()),
                _ => None,
            }));
        }
    }
    names
        .into_iter()
        .filter(|name| {
            effective(files, name).is_ok_and(|found| {
                variables::names(&found.located.scalar.value)
                    .iter()
                    .any(|n| n == variable)
            })
        })
        .collect()
}

/// Image references as Berth writes them: no spaces, quotes, `#` or `$`, so every quoting
/// style (and an unquoted `.env` value) can hold them as they are.
fn is_valid_image(image: &str) -> bool {
    image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image.len() <= 512
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
}

/// The distribution spec's tag grammar.
fn is_valid_tag(tag: &str) -> bool {
    tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
