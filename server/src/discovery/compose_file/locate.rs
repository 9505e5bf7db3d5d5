//! Where one service's `image:` is written in one parsed compose file, following aliases and
//! `<<:` merge keys the way a YAML loader does, and whether that place belongs to this service
//! alone (so that changing it cannot change another service).

use super::Refusal;
use super::yaml::{Document, Node, Scalar, alias_name};

/// What one compose file says about a service's image.
pub(super) enum InFile<'d> {
    NoService,
    /// The service is here but sets no image (`build:` only, or `extends:`).
    NoImage,
    Image(Located<'d>),
    /// The image is set in a form Berth cannot even read (a mapping, a malformed merge).
    Unreadable(Refusal),
}

pub(super) struct Located<'d> {
    /// The scalar the image value is written in.
    pub(super) scalar: &'d Scalar,
    /// Why changing that scalar would be unsafe, if it would.
    pub(super) blocked: Option<Refusal>,
}

/// Merge chains deeper than this are refused rather than followed.
const MAX_MERGE_DEPTH: usize = 8;

pub(super) fn service_image<'d>(document: &'d Document, text: &str, service: &str) -> InFile<'d> {
    let Ok(Some(services)) = document.root.get("services") else {
        return InFile::NoService;
    };
    let definition = match services.get(service) {
        Ok(Some(definition)) => definition,
        Ok(None) => return InFile::NoService,
        Err(()) => {
            return InFile::Unreadable(Refusal::DuplicateKey {
                key: service.to_owned(),
            });
        }
    };
    let context = Context {
        document,
        text,
        services,
        service,
    };
    let (definition, service_alias) = match definition {
        Node::Alias { anchor, at } => match document.root.anchored(*anchor) {
            Some(target) => (target, Some(alias_name(text, *at))),
            None => return InFile::Unreadable(Refusal::MergeMalformed),
        },
        definition => (definition, None),
    };
    match context.image_in(definition, 0) {
        Ok(Some(mut located)) => {
            if let (Some(anchor), None) = (service_alias, &located.blocked) {
                located.blocked = Some(Refusal::ServiceIsAlias { anchor });
            }
            InFile::Image(located)
        }
        Ok(None) => InFile::NoImage,
        Err(refusal) => InFile::Unreadable(refusal),
    }
}

struct Context<'d, 't> {
    document: &'d Document,
    text: &'t str,
    services: &'d Node,
    service: &'t str,
}

impl<'d> Context<'d, '_> {
    /// The image a mapping sets, itself or through its merge keys.
    fn image_in(&self, mapping: &'d Node, depth: usize) -> Result<Option<Located<'d>>, Refusal> {
        if depth > MAX_MERGE_DEPTH {
            return Err(Refusal::MergeMalformed);
        }
        let image = mapping.get("image").map_err(|()| Refusal::DuplicateKey {
            key: "image".into(),
        })?;
        match image {
            Some(Node::Scalar(scalar)) => {
                let blocked = (scalar.anchor != 0)
                    .then(|| self.aliases_to(scalar.anchor).first().copied())
                    .flatten()
                    .map(|at| Refusal::AnchoredImageShared {
                        anchor: alias_name(self.text, at),
                    });
                return Ok(Some(Located { scalar, blocked }));
            }
            Some(Node::Alias { anchor, at }) => {
                let Some(Node::Scalar(scalar)) = self.document.root.anchored(*anchor) else {
                    return Err(Refusal::ImageNotText);
                };
                let blocked = Some(Refusal::ImageIsAlias {
                    anchor: alias_name(self.text, *at),
                });
                return Ok(Some(Located { scalar, blocked }));
            }
            Some(_) => return Err(Refusal::ImageNotText),
            None => {}
        }
        let merged = match mapping.get("<<") {
            Ok(None) => return Ok(None),
            Ok(Some(Node::Sequence { items })) => items.iter().collect(),
            Ok(Some(single)) => vec![single],
            Err(()) => return Err(Refusal::DuplicateKey { key: "<<".into() }),
        };
        // In `<<: [*a, *b]` the first mapping that sets a key wins.
        for source in merged {
            let Node::Alias { anchor, at } = source else {
                return Err(Refusal::MergeMalformed);
            };
            let Some(target) = self.document.root.anchored(*anchor) else {
                return Err(Refusal::MergeMalformed);
            };
            if let Some(mut located) = self.image_in(target, depth + 1)? {
                if located.blocked.is_none() {
                    located.blocked = self.shared_merge(*anchor, *at);
                }
                return Ok(Some(located));
            }
        }
        Ok(None)
    }

    /// Where every alias to `anchor` is, anywhere in the document.
    fn aliases_to(&self, anchor: usize) -> Vec<usize> {
        let mut aliases = Vec::new();
        self.document.root.aliases(&mut aliases);
        aliases
            .into_iter()
            .filter(|(id, _)| *id == anchor)
            .map(|(_, at)| at)
            .collect()
    }

    /// Why editing inside the mapping merged from `anchor` would reach beyond this service: it
    /// is merged elsewhere too, or it is another service's own definition.
    fn shared_merge(&self, anchor: usize, at: usize) -> Option<Refusal> {
        let Node::Mapping { entries, .. } = self.services else {
            return None;
        };
        let mut users: Vec<String> = Vec::new();
        for (name, definition) in entries {
            let Node::Scalar(name) = name else { continue };
            if name.value == self.service {
                continue;
            }
            let mut aliases = Vec::new();
            definition.aliases(&mut aliases);
            if aliases.iter().any(|(id, _)| *id == anchor) || definition.anchored(anchor).is_some()
            {
                users.push(name.value.clone());
            }
        }
        let alias_count = self.aliases_to(anchor).len();
        if users.is_empty() && alias_count == 1 {
            return None;
        }
        if users.is_empty() {
            users.push("other parts of the file".into());
        }
        Some(Refusal::SharedMergeAnchor {
            anchor: alias_name(self.text, at),
            users,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::compose_file::yaml::parse;

    fn locate(text: &str, service: &str) -> Result<(String, Option<Refusal>), String> {
        let document = parse(text).unwrap();
        match service_image(&document, text, service) {
            InFile::Image(located) => Ok((located.scalar.value.clone(), located.blocked)),
            InFile::NoService => Err("no service".into()),
            InFile::NoImage => Err("no image".into()),
            InFile::Unreadable(refusal) => Err(refusal.to_string()),
        }
    }

    #[test]
    fn a_merge_anchor_used_by_one_service_is_editable() {
        let text = "x-app: &app\n  image: app:1\nservices:\n  web:\n    <<: *app\n";
        assert_eq!(locate(text, "web"), Ok(("app:1".into(), None)));
    }

    #[test]
    fn the_services_own_image_wins_over_a_shared_merge() {
        let text = "x: &d {image: base:1}\nservices:\n  a: {<<: *d, image: a:1}\n  b: {<<: *d}\n";
        assert_eq!(locate(text, "a"), Ok(("a:1".into(), None)));
        let (image, blocked) = locate(text, "b").unwrap();
        assert_eq!(image, "base:1");
        assert!(
            matches!(blocked, Some(Refusal::SharedMergeAnchor { ref anchor, ref users }) if anchor == "d" && users == &["a"])
        );
    }

    #[test]
    fn merging_another_services_definition_is_shared_with_it() {
        let text = "services:\n  web: &web\n    image: web:1\n  worker:\n    <<: *web\n";
        let (_, blocked) = locate(text, "worker").unwrap();
        assert!(
            matches!(blocked, Some(Refusal::SharedMergeAnchor { ref users, .. }) if users == &["web"])
        );
    }

    #[test]
    fn merge_lists_and_chains_are_followed() {
        let text = "x-b: &b {image: b:1}\nx-a: &a {<<: *b}\nx-c: &c {ports: [1]}\nservices:\n  s: {<<: [*c, *a]}\n";
        assert_eq!(locate(text, "s"), Ok(("b:1".into(), None)));
    }

    #[test]
    fn aliased_and_shared_anchored_images_are_blocked() {
        let text = "services:\n  a:\n    image: &img app:1\n  b:\n    image: *img\n";
        assert!(matches!(
            locate(text, "a"),
            Ok((_, Some(Refusal::AnchoredImageShared { .. })))
        ));
        assert!(
            matches!(locate(text, "b"), Ok((ref image, Some(Refusal::ImageIsAlias { ref anchor }))) if image == "app:1" && anchor == "img")
        );
    }

    #[test]
    fn a_service_defined_as_an_alias_of_another_is_blocked() {
        let text = "services:\n  web: &web {image: web:1}\n  copy: *web\n";
        let (image, blocked) = locate(text, "copy").unwrap();
        assert_eq!(image, "web:1");
        assert_eq!(
            blocked,
            Some(Refusal::ServiceIsAlias {
                anchor: "web".into()
            })
        );
    }

    #[test]
    fn services_without_an_image_or_absent_are_told_apart() {
        let text = "services:\n  built:\n    build: .\n";
        assert_eq!(locate(text, "built"), Err("no image".into()));
        assert_eq!(locate(text, "ghost"), Err("no service".into()));
        assert_eq!(locate("version: '3'\n", "ghost"), Err("no service".into()));
    }
}
